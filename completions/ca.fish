function __ca_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __ca_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __ca_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __ca_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __ca_parse_tokens -S
    set -l unparsed_tokens (__ca_tokens -pc)
    switch $unparsed_tokens[1]
    case 'ca'
        __ca_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'task'
            __ca_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'create'
                __ca_parse_subcommand 1 'repo=' 'branch=' 'sandbox=' 'template=' 'timeout=' 'max-turns=' 'model=' 'detach' 'network=' 'allow-host=+' 'ro-path=+' 'notify=' 'attempts=' 'max-cost=' 'keep-alive=' 'open-pr' 'base=' 'draft' 'json' 'server=' 'version' 'h/help'
            case 'get'
                __ca_parse_subcommand 1 'attempt=' 'json' 'server=' 'version' 'h/help'
            case 'logs'
                __ca_parse_subcommand 1 'f/follow' 'attempt=' 'json' 'server=' 'version' 'h/help'
            case 'wait'
                __ca_parse_subcommand 1 'timeout=' 'json' 'server=' 'version' 'h/help'
            case 'list'
                __ca_parse_subcommand 0 'status=' 'limit=' 'json' 'server=' 'version' 'h/help'
            case 'resume'
                __ca_parse_subcommand 2 'sandbox=' 'attempt=' 'timeout=' 'max-turns=' 'model=' 'detach' 'network=' 'allow-host=+' 'ro-path=+' 'notify=' 'attempts=' 'max-cost=' 'keep-alive=' 'open-pr' 'base=' 'draft' 'json' 'server=' 'version' 'h/help'
            case 'cancel'
                __ca_parse_subcommand 1 'json' 'server=' 'version' 'h/help'
            case 'diff'
                __ca_parse_subcommand 1 'attempt=' 'json' 'server=' 'version' 'h/help'
            case 'files'
                __ca_parse_subcommand 1 'attempt=' 'json' 'server=' 'version' 'h/help'
            case 'apply'
                __ca_parse_subcommand 1 'check' '3way' 'directory=' 'attempt=' 'json' 'server=' 'version' 'h/help'
            end
        case 'pr'
            __ca_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'review'
                __ca_parse_subcommand 1 'repo=' 'post' 'instructions=' 'sandbox=' 'timeout=' 'max-turns=' 'model=' 'detach' 'network=' 'allow-host=+' 'ro-path=+' 'notify=' 'attempts=' 'max-cost=' 'keep-alive=' 'json' 'server=' 'version' 'h/help'
            end
        case 'sandbox'
            __ca_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'list'
                __ca_parse_subcommand 0 'sandbox=' 'all-installations' 'json' 'version' 'h/help'
            case 'gc'
                __ca_parse_subcommand 0 'sandbox=' 'all-installations' 'json' 'version' 'h/help'
            end
        case 'doctor'
            __ca_parse_subcommand 0 'sandbox=' 'all-installations' 'json' 'version' 'h/help'
        case 'serve'
            __ca_parse_subcommand 0 'host=' 'port=' 'max-concurrent=' 'max-running-per-key=' 'allow-local-backend' 'allow-local-repos' 'shutdown-grace=' 'max-bundle-mib=' 'version' 'h/help'
        case 'keys'
            __ca_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'create'
                __ca_parse_subcommand 1 'admin' 'notify=' 'max-cost=' 'json' 'version' 'h/help'
            case 'list'
                __ca_parse_subcommand 0 'json' 'version' 'h/help'
            case 'revoke'
                __ca_parse_subcommand 1 'json' 'version' 'h/help'
            end
        case 'help'
            __ca_parse_subcommand -r 1 'version'
        end
    end
end

function __ca_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __ca_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __ca_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __ca_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__ca_tokens -p)
    if test -z "$(__ca_tokens -t)"
        set -l index (count (__ca_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'ca' -f
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca" -eq 1' -fa 'task' -d 'Create, follow and inspect agent tasks.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca" -eq 1' -fa 'pr' -d 'Work on GitHub pull requests.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca" -eq 1' -fa 'sandbox' -d 'List and clean up the sandboxes ca created.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca" -eq 1' -fa 'doctor' -d 'Check that ca can run tasks here: credentials, local backend, cloud backends and template.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca" -eq 1' -fa 'serve' -d 'Run the task engine behind an HTTP API for a team (see openapi.yaml).'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca" -eq 1' -fa 'keys' -d 'Manage the API keys of ca serve.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'create' -d 'Run an agent on a prompt against a repository.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'get' -d 'Show one task.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'logs' -d 'Print a task\'s events; -f follows a running task until it ends.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'wait' -d 'Wait for a task to end; the exit code reflects its outcome.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'list' -d 'List tasks, newest first.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'resume' -d 'Continue a finished task with a new prompt, keeping its conversation and changes.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'cancel' -d 'Stop a queued or running task (its agent and sandbox are killed).'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'diff' -d 'Print the patch of everything the agent changed.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'files' -d 'List the files saved for a task.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca task" -eq 1' -fa 'apply' -d 'Apply a task\'s changes to the git checkout here.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" repo' -l 'repo' -d 'Repository to work on: https or ssh URL, file:// URL, a local path, or OWNER/NAME on GitHub ($GITHUB_SERVER_URL).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" branch' -l 'branch' -d 'Branch to check out.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" sandbox' -l 'sandbox' -d 'Sandbox backend: local, novita or e2b (default: $CA_SANDBOX, else novita when NOVITA_API_KEY is set, else local).' -rfka 'local novita e2b'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" template' -l 'template' -d 'Sandbox template for novita/e2b (default: $CA_TEMPLATE, else cloud-agent-v1).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" timeout' -l 'timeout' -d 'Stop the task after this long: 90s, 15m, 2h (default 1h).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" max-turns' -l 'max-turns' -d 'Stop the agent after this many turns.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" model' -l 'model' -d 'Model name or alias passed to Claude Code (sonnet, haiku, …).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" detach' -l 'detach' -d 'Print the task id and run it in a background ca process.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" network' -l 'network' -d 'Network of a local sandbox: none (the agent API only), allowlist (also the repository\'s host and --allow-host), open (default: $CA_NETWORK, else allowlist).' -rfka 'none allowlist open'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create"' -l 'allow-host' -d 'Let a local sandbox reach HOST[:PORT] (repeatable; @registries adds common package registries).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create"' -l 'ro-path' -d 'Show a host path read-only inside a local sandbox, such as a toolchain outside /usr (repeatable).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" notify' -l 'notify' -d 'Post the task\'s end to this http(s) URL, signed with $CA_WEBHOOK_SECRET and retried (default: $CA_NOTIFY_URL).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" attempts' -l 'attempts' -d 'Run N attempts of the prompt at once, each in its own sandbox, under one task that succeeds when one of them does (1 to 4, default 1).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" max-cost' -l 'max-cost' -d 'Stop the task once its model calls cost this many dollars, e.g. 2 or 0.50 (default: $CA_MAX_COST, else no cap).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" keep-alive' -l 'keep-alive' -d 'On novita/e2b, pause the sandbox at the task\'s end instead of killing it, for this long (at most 24h; 0 turns it off): `ca task resume` within the window continues in it at once (default: $CA_KEEP_ALIVE; a resume keeps its parent\'s).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" open-pr' -l 'open-pr' -d 'When the task succeeds with changes, commit them on a new branch ca/<id>, push it and open a pull request (resume: update the chain\'s pull request). Needs GH_TOKEN or GITHUB_TOKEN.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" base' -l 'base' -d 'Branch the pull request goes into (default: --branch, else the repository\'s default branch).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" draft' -l 'draft' -d 'Open the pull request as a draft.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task get" attempt' -l 'attempt' -d 'Of a task run with --attempts N: attempt K (1 to N).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task get" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task get" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task get" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task get" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task logs" f follow' -l 'follow' -s 'f' -d 'Keep printing new events until the task ends.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task logs" attempt' -l 'attempt' -d 'Of a task run with --attempts N: attempt K (1 to N).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task logs" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task logs" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task logs" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task logs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task wait" timeout' -l 'timeout' -d 'Give up after this long (90s, 15m, 2h).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task wait" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task wait" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task wait" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task wait" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task list" status' -l 'status' -d 'Only tasks with this status: queued, running, succeeded, failed, cancelled, timed_out.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task list" limit' -l 'limit' -d 'How many tasks to show.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task list" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task list" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task list" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" sandbox' -l 'sandbox' -d 'Sandbox backend (default: the parent\'s).' -rfka 'local novita e2b'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" attempt' -l 'attempt' -d 'Of a task run with --attempts N: attempt K (1 to N).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" timeout' -l 'timeout' -d 'Stop the task after this long: 90s, 15m, 2h (default 1h).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" max-turns' -l 'max-turns' -d 'Stop the agent after this many turns.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" model' -l 'model' -d 'Model name or alias passed to Claude Code (sonnet, haiku, …).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" detach' -l 'detach' -d 'Print the task id and run it in a background ca process.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" network' -l 'network' -d 'Network of a local sandbox: none (the agent API only), allowlist (also the repository\'s host and --allow-host), open (default: $CA_NETWORK, else allowlist).' -rfka 'none allowlist open'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume"' -l 'allow-host' -d 'Let a local sandbox reach HOST[:PORT] (repeatable; @registries adds common package registries).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume"' -l 'ro-path' -d 'Show a host path read-only inside a local sandbox, such as a toolchain outside /usr (repeatable).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" notify' -l 'notify' -d 'Post the task\'s end to this http(s) URL, signed with $CA_WEBHOOK_SECRET and retried (default: $CA_NOTIFY_URL).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" attempts' -l 'attempts' -d 'Run N attempts of the prompt at once, each in its own sandbox, under one task that succeeds when one of them does (1 to 4, default 1).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" max-cost' -l 'max-cost' -d 'Stop the task once its model calls cost this many dollars, e.g. 2 or 0.50 (default: $CA_MAX_COST, else no cap).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" keep-alive' -l 'keep-alive' -d 'On novita/e2b, pause the sandbox at the task\'s end instead of killing it, for this long (at most 24h; 0 turns it off): `ca task resume` within the window continues in it at once (default: $CA_KEEP_ALIVE; a resume keeps its parent\'s).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" open-pr' -l 'open-pr' -d 'When the task succeeds with changes, commit them on a new branch ca/<id>, push it and open a pull request (resume: update the chain\'s pull request). Needs GH_TOKEN or GITHUB_TOKEN.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" base' -l 'base' -d 'Branch the pull request goes into (default: --branch, else the repository\'s default branch).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" draft' -l 'draft' -d 'Open the pull request as a draft.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task resume" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task cancel" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task cancel" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task cancel" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task cancel" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task diff" attempt' -l 'attempt' -d 'Of a task run with --attempts N: attempt K (1 to N).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task diff" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task diff" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task diff" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task files" attempt' -l 'attempt' -d 'Of a task run with --attempts N: attempt K (1 to N).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task files" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task files" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task files" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task files" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task apply" check' -l 'check' -d 'Only say whether the changes apply; change nothing.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task apply" 3way' -l '3way' -d 'Fall back to a three-way merge where the changes do not apply cleanly.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task apply" directory' -l 'directory' -d 'The git checkout (default: the current folder).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task apply" attempt' -l 'attempt' -d 'Of a task run with --attempts N: attempt K (1 to N).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task apply" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task apply" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task apply" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca task apply" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca pr" -eq 1' -fa 'review' -d 'Review a GitHub pull request with an agent.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" repo' -l 'repo' -d 'Repository on GitHub ($GITHUB_SERVER_URL).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" post' -l 'post' -d 'Post the review on the pull request.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" instructions' -l 'instructions' -d 'Extra instructions for the reviewer.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" sandbox' -l 'sandbox' -d 'Sandbox backend: local, novita or e2b (default: $CA_SANDBOX, else novita when NOVITA_API_KEY is set, else local).' -rfka 'local novita e2b'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" timeout' -l 'timeout' -d 'Stop the task after this long: 90s, 15m, 2h (default 1h).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" max-turns' -l 'max-turns' -d 'Stop the agent after this many turns.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" model' -l 'model' -d 'Model name or alias passed to Claude Code (sonnet, haiku, …).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" detach' -l 'detach' -d 'Print the task id and run it in a background ca process.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" network' -l 'network' -d 'Network of a local sandbox: none (the agent API only), allowlist (also the repository\'s host and --allow-host), open (default: $CA_NETWORK, else allowlist).' -rfka 'none allowlist open'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review"' -l 'allow-host' -d 'Let a local sandbox reach HOST[:PORT] (repeatable; @registries adds common package registries).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review"' -l 'ro-path' -d 'Show a host path read-only inside a local sandbox, such as a toolchain outside /usr (repeatable).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" notify' -l 'notify' -d 'Post the task\'s end to this http(s) URL, signed with $CA_WEBHOOK_SECRET and retried (default: $CA_NOTIFY_URL).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" attempts' -l 'attempts' -d 'Run N attempts of the prompt at once, each in its own sandbox, under one task that succeeds when one of them does (1 to 4, default 1).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" max-cost' -l 'max-cost' -d 'Stop the task once its model calls cost this many dollars, e.g. 2 or 0.50 (default: $CA_MAX_COST, else no cap).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" keep-alive' -l 'keep-alive' -d 'On novita/e2b, pause the sandbox at the task\'s end instead of killing it, for this long (at most 24h; 0 turns it off): `ca task resume` within the window continues in it at once (default: $CA_KEEP_ALIVE; a resume keeps its parent\'s).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" server' -l 'server' -d 'Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca pr review" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca sandbox" -eq 1' -fa 'list' -d 'Show ca\'s live sandboxes with their task and age.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca sandbox" -eq 1' -fa 'gc' -d 'Kill ca\'s sandboxes whose task is finished, failed or unknown.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox list" sandbox' -l 'sandbox' -d 'Only this backend: local, novita or e2b (default: every configured one).' -rfka 'local novita e2b'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox list" all-installations' -l 'all-installations' -d 'On cloud backends, also sandboxes started by other ca installations on the same account (a teammate\'s, a server\'s).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox list" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox list" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox gc" sandbox' -l 'sandbox' -d 'Only this backend: local, novita or e2b (default: every configured one).' -rfka 'local novita e2b'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox gc" all-installations' -l 'all-installations' -d 'On cloud backends, also sandboxes started by other ca installations on the same account (a teammate\'s, a server\'s).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox gc" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox gc" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca sandbox gc" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca doctor" sandbox' -l 'sandbox' -d 'Only this backend: local, novita or e2b (default: every configured one).' -rfka 'local novita e2b'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca doctor" all-installations' -l 'all-installations' -d 'On cloud backends, also sandboxes started by other ca installations on the same account (a teammate\'s, a server\'s).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca doctor" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca doctor" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca doctor" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" host' -l 'host' -d 'Address to listen on.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" port' -l 'port' -d 'Port to listen on (0 picks a free one).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" max-concurrent' -l 'max-concurrent' -d 'Tasks run at once; the rest wait in the queue.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" max-running-per-key' -l 'max-running-per-key' -d 'Running tasks one API key may have at once (default: no limit of its own).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" allow-local-backend' -l 'allow-local-backend' -d 'Let tasks use the local (bubblewrap) backend on this machine (off by default: cloud backends only).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" allow-local-repos' -l 'allow-local-repos' -d 'Let tasks name file:// URLs and paths on this machine.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" shutdown-grace' -l 'shutdown-grace' -d 'After SIGTERM/SIGINT, how long running tasks may go on (90s, 5m; 0 stops them at once).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" max-bundle-mib' -l 'max-bundle-mib' -d 'Largest repository bundle a client may upload, in MiB.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca serve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca keys" -eq 1' -fa 'create' -d 'Make a key; it is printed once and stored only as a hash.'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca keys" -eq 1' -fa 'list' -d 'List the keys (names, never the keys).'
complete -c 'ca' -n '__ca_should_offer_completions_for_positional "ca keys" -eq 1' -fa 'revoke' -d 'Revoke a key; it stops working at once.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys create" admin' -l 'admin' -d 'Let the key see and manage every owner\'s tasks.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys create" notify' -l 'notify' -d 'Post the end of this key\'s tasks to this http(s) URL unless a request names one (the server needs CA_WEBHOOK_SECRET).' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys create" max-cost' -l 'max-cost' -d 'Cap the cost of this key\'s tasks at this many dollars unless a request names a cap.' -rfka ''
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys create" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys create" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys list" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys list" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys revoke" json' -l 'json' -d 'Print machine-readable JSON (one object, or one object per line for logs).'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys revoke" version' -l 'version' -d 'Show the version.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca keys revoke" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'ca' -n '__ca_should_offer_completions_for_flags_or_options "ca help" version' -l 'version' -d 'Show the version.'

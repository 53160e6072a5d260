# ca's sandbox template: the equivalent of cloud-agent-v1.
# Claude Code, GitHub CLI, git, uv, Node.js 20, PostgreSQL, Redis and a start-services command.
# Build it with Novita's CLI (see template/README.md); E2B users build the same file with `e2b template build`.
FROM novitalabs/code-interpreter:latest

USER root
ENV DEBIAN_FRONTEND=noninteractive

# Base tools, PostgreSQL and Redis from Debian/Ubuntu packages.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl git gnupg jq ripgrep unzip \
        postgresql postgresql-contrib redis-server sudo \
 && rm -rf /var/lib/apt/lists/*

# Node.js 20 (NodeSource) and Claude Code at the version ca pins everywhere: claude-code-version
# (scripts/fetch-claude.sh reads the same file for the local backend's binary).
COPY claude-code-version /tmp/claude-code-version
RUN CLAUDE_CODE_VERSION="$(tr -d '[:space:]' < /tmp/claude-code-version)" \
 && test -n "$CLAUDE_CODE_VERSION" \
 && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && npm install -g "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" \
 && claude --version | grep -q "^${CLAUDE_CODE_VERSION} " \
 && rm -rf /var/lib/apt/lists/* /tmp/claude-code-version

# GitHub CLI.
RUN curl -fsSL https://cli.github.com/packages/githubcli-archive-keyring.gpg -o /usr/share/keyrings/githubcli-archive-keyring.gpg \
 && echo "deb [arch=$(dpkg --print-architecture) signed-by=/usr/share/keyrings/githubcli-archive-keyring.gpg] https://cli.github.com/packages stable main" \
        > /etc/apt/sources.list.d/github-cli.list \
 && apt-get update && apt-get install -y --no-install-recommends gh && rm -rf /var/lib/apt/lists/*

# uv (Python package manager) for all users.
RUN curl -LsSf https://astral.sh/uv/install.sh | env UV_INSTALL_DIR=/usr/local/bin sh

# start-services: starts PostgreSQL and Redis on loopback, idempotently.
COPY start-services /usr/local/bin/start-services
RUN chmod 755 /usr/local/bin/start-services \
 && echo 'user ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/user

USER user
WORKDIR /home/user

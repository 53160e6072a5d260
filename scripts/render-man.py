#!/usr/bin/env python3
"""Renders man/ca.1 (troff) from `ca --experimental-dump-help`, the argument parser's own
description of every command, so the man page can never drift from the code."""
import json
import subprocess
import sys


def esc(text):
    text = (text or "").replace("\\", "\\\\").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith(".") or line.startswith("'"):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def flag_names(arg):
    names = []
    for n in arg.get("names", []):
        names.append(("-" if n["kind"] == "short" else "--") + n["name"])
    return ", ".join(names)


def synopsis(path, cmd):
    parts = [" ".join(path)]
    for a in cmd.get("arguments", []):
        if not a.get("shouldDisplay", True) or (a.get("names") and a["names"][0]["name"] in ("help", "version")):
            continue
        if a["kind"] == "positional":
            s = "<%s>" % a["valueName"]
        elif a["kind"] == "flag":
            s = "--" + a["preferredName"]["name"] if a["preferredName"]["kind"] != "short" else "-" + a["preferredName"]["name"]
        else:
            s = "--%s <%s>" % (a["preferredName"]["name"], a["valueName"])
        parts.append(s if not a.get("isOptional") else "[%s]" % s)
    return " ".join(parts)


def render(cmd, path, out):
    subs = [s for s in cmd.get("subcommands", []) if s.get("shouldDisplay", True)]
    args = [a for a in cmd.get("arguments", []) if a.get("shouldDisplay", True)
            and not (a.get("names") and a["names"][0]["name"] in ("help", "version"))]
    if path != ["ca"] and (args or not subs):
        out.append(".SS " + esc(" ".join(path)))
        out.append(esc(cmd.get("abstract", "")))
        out.append(".PP")
        out.append("\\fB" + esc(synopsis(path, cmd)) + "\\fR")
        if cmd.get("discussion"):
            out.append(".PP")
            out.append(esc(cmd["discussion"]))
        for a in args:
            out.append(".TP")
            label = "<%s>" % a["valueName"] if a["kind"] == "positional" else flag_names(a)
            if a["kind"] == "option":
                label += " <%s>" % a["valueName"]
            out.append("\\fB" + esc(label) + "\\fR")
            out.append(esc(a.get("abstract", "")))
    for s in subs:
        render(s, path + [s["commandName"]], out)


def main():
    binary = sys.argv[1]
    info = json.loads(subprocess.check_output([binary, "--experimental-dump-help"]))["command"]
    version = subprocess.check_output([binary, "--version"]).decode().strip()
    discussion = info.get("discussion", "")
    body, _, tail = discussion.partition("ENVIRONMENT")
    out = ['.TH CA 1 "" "ca %s" "User Commands"' % esc(version), ".SH NAME", "ca \\- " + esc(info.get("abstract", "")),
           ".SH SYNOPSIS", "\\fBca\\fR \\fItask\\fR <subcommand> [options]", ".SH DESCRIPTION", esc(body.strip()),
           ".SH COMMANDS"]
    render(info, ["ca"], out)
    env, _, codes = tail.partition("EXIT CODES")
    out += [".SH ENVIRONMENT", ".nf", esc(env.strip("\n")), ".fi", ".SH EXIT STATUS", ".nf", esc(codes.strip("\n")), ".fi",
            ".SH FILES", "~/.local/share/ca/ca.sqlite (or $CA_HOME/ca.sqlite): task history.",
            ".br", "~/.local/share/ca/tasks/<id>/: patch.diff, files/, transcript.jsonl of each task.",
            ".SH SEE ALSO", "README.md and ARCHITECTURE.md in the ca repository."]
    print("\n".join(out))


main()

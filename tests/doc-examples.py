#!/usr/bin/env python3
"""doc-examples.py -- runs every example in the README and the man pages.

An example is a command shown after a "$ " prompt: in the README, on a
line indented four spaces or more; in a man page, inside .EX/.EE or
.nf/.fi. The lines after it, up to the next prompt or the end of the block,
are its shown output ("you: TEXT" lines in it are what the customer typed:
they become its standard input). The commands of one block run in order in
one bash, as a user would type them, in a fresh directory that holds a copy
of the shipped data (policies/, kb/, data/ and the triage model: a source
tree, or an installed data directory) with its own HOME and XDG
directories, FRONTLINE_TODAY=2026-11-24, and `frontline` on PATH.

A command passes when it exits 0 (or what the example shows with
`echo $?`, or what EXAMPLES below allows, with the reason) and, where the
doc shows output, when the output's key words appear in it in the order
shown. Key words are words of letters (identifiers, JSON keys and values,
ids such as A12345 or C-1001); numbers, hexadecimal hashes, "..." and the
directories of a path are not compared, so a score or a path may differ,
while a renamed field, a changed decision or a reworded message fails. The
output of a command started in the background (`cmd &`) belongs to the
block: later commands' shown output may come from it, as on a terminal.

Placeholders get values and examples that need a server or a terminal get
one through EXAMPLES; an example that cannot run is listed there as
skipped, with the reason. A command line a doc shows without a "$ "
(an indented frontline, make or ./script line in the README; a frontline
line in a man page's example block that has no placeholder) fails the
test unless NOT_RUN says why it is not run; an entry of EXAMPLES or
NOT_RUN that matches nothing fails too.

Run by tests/doc-examples.sh (make check); prints "ok"/"FAIL" per command
and "N passed, M failed" last.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.path.abspath(os.environ.get("top_srcdir", os.path.join(HERE, "..")))
TOP_BUILDDIR = os.path.abspath(os.environ.get("top_builddir", "."))
FRONTLINE = os.path.abspath(os.environ.get("FRONTLINE", os.path.join(TOP_BUILDDIR, "frontline")))
MODEL = os.path.abspath(
    os.environ.get("FRONTLINE_MODEL", os.path.join(TOP_BUILDDIR, "triage.model")))

# What the examples need, keyed by (doc, a piece of the block's first command).
#   skip     the reason it is not run
#   setup    shell run first in the example's directory (placeholders' files)
#   subst    [(text, value)] replaced in the commands ({port} a free port,
#            {dir} the example's directory)
#   console  start the console under tmux first, as the example assumes
#   needs    a program the example uses: skipped when it is not installed
#   rc       {piece of a command: (allowed exit statuses, why)}
SEED_HANDOFF = (
    "printf 'I was charged twice, I want my money back\\n' | "
    "frontline chat --customer C-1001 >/dev/null && "
    "frontline handoff review 1 --category billing --reason customer-requested-human "
    "--missing 'the duplicate charge amount' --reviewer ana >/dev/null"
)
EXAMPLES = {
    ("README", "frontline customer --name"): {
        "console": True,
    },
    ("README", "export FRONTLINE_SERVE_TOKEN"): {
        "subst": [
            ("postgresql://db/frontline", "{dir}/store.db"),
            ("127.0.0.1:8080", "127.0.0.1:{port}"),
        ],
    },
    ("README", "frontline triage train bank-tickets.tsv"): {
        # A bank's tickets stand in: the shipped corpus's first lines (card
        # and transfer questions from BANKING77) as training, the next as test.
        "setup": "head -n 1000 data/triage/train.tsv >bank-tickets.tsv && "
        "sed -n 1001,1400p data/triage/train.tsv >bank-test.tsv",
    },
    ("README", "frontline handoff review --export corrections.jsonl"): {
        "setup": SEED_HANDOFF + " && cp data/tickets/acme-dev.jsonl tickets.jsonl && "
        "cp data/tickets/acme-test.jsonl holdout.jsonl",
        "rc": {
            "frontline drift": (
                (0, 1),
                "drift exits 1 when the candidate changes a decision: that is its job",
            ),
            "frontline canary status; frontline canary promote": (
                (0, 1),
                "promote refuses (exit 1) until the canary has traffic to compare",
            ),
        },
    },
    ("frontline.1", "frontline.db db export"): {
        "setup": "mkdir -p ~/.local/state/frontline && echo 'where is my order A12345?' | "
        "frontline --db ~/.local/state/frontline/frontline.db chat --customer C-1001 >/dev/null",
        "subst": [("postgresql://frontline@db.example/frontline", "{dir}/other.db")],
    },
    ("frontline.1", "frontline customer --customer C-1001"): {
        "console": True,
    },
    ("frontline.1", "< questions.txt"): {
        "setup": "printf 'how long is the return window\\nmy package never arrived\\n' "
        ">questions.txt",
        "needs": "jq",
    },
    ("frontline.1", "kb audit --strict || exit 1"): {
        "rc": {
            "kb audit": (
                (1,),
                "the shipped KB holds stale facts and a conflict on purpose: the gate fires",
            )
        },
    },
    ("frontline.1", "policy check new-policy.yaml"): {
        "setup": "sed 's/max_turns: 4/max_turns: 5/' policies/support-agent-policy.yaml "
        ">new-policy.yaml",
    },
    ("frontline.1", "--policy ./strict-policy.yaml --demo"): {
        # Without a terminal --demo prints the tour, on the policy given.
        "setup": "sed 's/confidence_threshold: 0.72/confidence_threshold: 0.85/' "
        "policies/support-agent-policy.yaml >strict-policy.yaml",
    },
    ("frontline-http.7", "export FRONTLINE_SERVE_TOKEN"): {
        "subst": [
            ("postgresql://frontline@db/frontline", "{dir}/store.db"),
            ("127.0.0.1:8080", "127.0.0.1:{port}"),
            # The example's conversation is the store's seventh; here the first.
            ("/conversations/7", "/conversations/1"),
        ],
        "needs": "curl",
    },
    ("frontline-protocol.7", "nc -U"): {
        "skip": "an interactive session in which a supervisor takes the chat over; "
        "tests/customer.sh and tests/check_listener speak the protocol",
    },
}

# Command lines the docs show that are not run here, and why.
NOT_RUN = {
    ("README", ".ci/install-deps && ./bootstrap"):
        "the Quick start builds frontline from a clean clone: .ci/run does",
    ("README", "make check"): "the test suite this test is part of",
    ("README", "./bootstrap && ./configure --enable-debug"): "a sanitizer build: .ci/run does it",
}


def unescape_roff(line):
    """The text a man page line shows, for the escapes its examples use."""
    line = re.sub(r"\\f[BIRP]", "", line)
    escapes = (("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'), ("\\(em", "\u2014"), ("\\&", ""),
               ("\\ ", " "))
    for esc, text in escapes:
        line = line.replace(esc, text)
    return line.replace("\\e", "\\")


CONTINUED = re.compile(r"(\\|\||&&|\|\|)\s*$")


class Command:
    def __init__(self, text):
        self.text = text
        self.shown = []
        self.stdin = []


class Example:
    def __init__(self, doc, line):
        self.doc = doc
        self.line = line
        self.commands = []

    def name(self):
        return "%s:%d" % (self.doc, self.line)


def add_line(ex, text):
    """One line of an example block: a command, its continuation or output."""
    if text.startswith("$ "):
        ex.commands.append(Command(text[2:]))
    elif ex.commands and CONTINUED.search(ex.commands[-1].text) and not ex.commands[-1].shown:
        ex.commands[-1].text += "\n" + text
    elif ex.commands:
        if text.startswith("you: "):
            ex.commands[-1].stdin.append(text[5:])
        else:
            ex.commands[-1].shown.append(text)


# A command line outside an example: frontline and what it takes (not a
# synopsis with [OPTIONS], not a "frontline serve:" log line), a script, make.
README_COMMAND = re.compile(r" {4,}(frontline (?!\S+:)[^[|]*|\.{1,2}/.*|\.ci/.*|make( .*)?)$")
MAN_COMMAND = re.compile(r"frontline (?!\S+:)")


def readme_examples(path, lint):
    examples, ex, indent = [], None, 0
    for n, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if ex is not None and line.strip() and line.startswith(" " * indent):
            add_line(ex, line[indent:])
            continue
        ex = None
        m = re.match(r"( {4,})\$ ", line)
        if m:
            indent = len(m.group(1))
            ex = Example("README", n)
            examples.append(ex)
            add_line(ex, line[indent:])
        elif README_COMMAND.match(line):
            lint.append(("README", n, line.strip()))
    return examples


def man_examples(path, lint):
    doc = os.path.basename(path)
    examples, ex, inside = [], None, False
    for n, raw in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if raw.startswith((".EX", ".nf")):
            inside, ex = True, None
            continue
        if raw.startswith((".EE", ".fi")):
            inside, ex = False, None
            continue
        if not inside:
            continue
        text = unescape_roff(raw)
        if text.startswith("$ ") and ex is None:
            ex = Example(doc, n)
            examples.append(ex)
        if ex is not None:
            add_line(ex, text)
        elif MAN_COMMAND.match(text) and "\\fI" not in raw:  # not a synopsis with placeholders
            lint.append((doc, n, text))
    return examples


# ---------------------------------------------------------------- matching
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:['.-][A-Za-z0-9_]+)*")
HEX = re.compile(r"[0-9a-f]{7,}$")
DIRS = re.compile(r"(?:[A-Za-z0-9_.~+-]*/)+")


def key_words(text):
    """The words compared; a word cut short with "..." ends in "...", a prefix."""
    text = DIRS.sub("", text)
    return [m.group(0) + ("..." if text.startswith("...", m.end()) else "")
            for m in WORD.finditer(text) if not HEX.match(m.group(0))]


def first_missing(shown, actual):
    """The first shown key word not found in order in actual, and where; or None."""
    def same(w, a):
        return a == w or (w.endswith("...") and a.startswith(w[:-3]))

    at = 0
    for w in shown:
        found = next((i for i in range(at, len(actual)) if same(w, actual[i])), None)
        if found is None:
            return w, actual[max(0, at - 3) : at + 8]
        at = found + 1
    return None


# ---------------------------------------------------------------- running
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config_for(ex):
    first = ex.commands[0].text
    for (doc, piece), conf in EXAMPLES.items():
        if doc == ex.doc and piece in first:
            conf["used"] = True
            return conf
    return {}


def prepare(work):
    for d in ("policies", "kb"):
        shutil.copytree(os.path.join(TOP_SRCDIR, d), os.path.join(work, d))
    os.symlink(os.path.join(TOP_SRCDIR, "data"), os.path.join(work, "data"))
    shutil.copy(MODEL, os.path.join(work, "triage.model"))
    os.mkdir(os.path.join(work, "bin"))
    os.symlink(FRONTLINE, os.path.join(work, "bin", "frontline"))
    for d in ("home", "cache", "state", "config", "share", "run"):
        os.mkdir(os.path.join(work, d), 0o700)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FRONTLINE", "OPENAI", "XDG_", "MAKE"))}
    env.update(
        HOME=os.path.join(work, "home"),
        XDG_CACHE_HOME=os.path.join(work, "cache"),
        XDG_STATE_HOME=os.path.join(work, "state"),
        XDG_CONFIG_HOME=os.path.join(work, "config"),
        XDG_DATA_HOME=os.path.join(work, "share"),
        XDG_RUNTIME_DIR=os.path.join(work, "run"),
        FRONTLINE_TODAY="2026-11-24",
        LC_ALL="C.UTF-8",
        PATH=os.path.join(work, "bin") + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
    )
    env.pop("TMUX", None)
    return env


def start_console(work, env):
    """The console under tmux on its default socket, once it listens; the tmux socket."""
    sock = os.path.join(work, "tmux.sock")
    subprocess.run(
        ["tmux", "-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "45",
         "env TERM=tmux-256color frontline console --name sam"],
        cwd=work, env=env, check=True)
    listening = os.path.join(work, "run", "frontline", "console.sock")
    for _ in range(200):
        if os.path.exists(listening):
            break
        time.sleep(0.1)
    return sock


def script_for(ex, conf, work, port):
    lines = ["set -m"]
    for i, c in enumerate(ex.commands):
        text = c.text
        for old, new in conf.get("subst", []):
            text = text.replace(old, new.format(port=port, dir=work))
        c.run = text
        with open(os.path.join(work, "in.%d" % i), "w") as f:
            f.write("".join(s + "\n" for s in c.stdin))
        redirect = "<in.%d >out.%d 2>&1" % (i, i)
        background = re.search(r"(?<!&)&\s*$", text)
        if background:
            body = text[: background.start()]
            lines.append("{ %s\n} %s &\necho $! >>bg.pids" % (body, redirect))
            m = re.search(r"--listen\s+(\S+):(\d+)", body)
            if m:  # as a user would, wait until serve listens
                lines.append("for i in $(seq 100); do (exec 3<>/dev/tcp/%s/%s) 2>/dev/null "
                             "&& break; sleep 0.1; done" % (m.group(1), m.group(2)))
        else:
            group = "( %s\n)" if re.search(r"\bexit\b", text) else "{ %s\n}"
            lines.append((group % text) + " " + redirect)
            lines.append("rc=$?; echo $rc >rc.%d; (exit $rc)" % i)
        c.background = bool(background)
    return "\n".join(lines) + "\n"


def out_of(work, i):
    return read(os.path.join(work, "out.%d" % i))


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def kill_groups(work):
    pids = [int(p) for p in read(os.path.join(work, "bg.pids")).split()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.killpg(p, sig)
            except ProcessLookupError:
                pass
        if sig == signal.SIGTERM:
            time.sleep(0.5)


class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, what):
        self.passed += 1
        print("ok - " + what)

    def fail(self, what, detail=""):
        self.failed += 1
        print("FAIL - " + what)
        for line in detail.rstrip("\n").split("\n")[:25]:
            if line:
                print("    | " + line)


def check(ex, conf, work):
    """The failures of ex's commands so far: {index: message}."""
    problems = {}
    bg_out = ""
    for i, c in enumerate(ex.commands):
        out = out_of(work, i)
        if c.background:
            bg_out += out
        if c.text.strip() == "echo $?":
            if out.strip() != "\n".join(c.shown).strip():
                problems[i] = "shows %r, printed %r" % ("\n".join(c.shown), out.strip())
            continue
        if not c.background:
            rc = read(os.path.join(work, "rc.%d" % i)).strip()
            allowed = (0,)
            for piece, (codes, _why) in conf.get("rc", {}).items():
                if piece in c.text:
                    allowed = codes
            nxt = ex.commands[i + 1] if i + 1 < len(ex.commands) else None
            if nxt is not None and nxt.text.strip() == "echo $?":
                allowed = tuple(int(s) for s in nxt.shown if s.strip().isdigit())
            if rc == "" or int(rc) not in allowed:
                problems[i] = "exit %s, wanted %s" % (rc or "(did not finish)",
                                                      " or ".join(map(str, allowed)))
                continue
        shown = key_words("\n".join(c.shown))
        if shown:
            seen = out if c.background else out + "\n" + bg_out
            miss = first_missing(shown, key_words(seen))
            if miss:
                problems[i] = "no '%s' in the output, in the order shown (near: %s)" % (
                    miss[0], " ".join(miss[1]))
    return problems


def run_example(ex, conf, report):
    if "skip" in conf:
        print("ok - %s # SKIP %s" % (ex.name(), conf["skip"]))
        return
    needs = conf.get("needs")
    if needs and shutil.which(needs) is None:
        print("ok - %s # SKIP %s is not installed" % (ex.name(), needs))
        return
    if conf.get("console") and shutil.which("tmux") is None:
        print("ok - %s # SKIP tmux is not installed (the console needs a terminal)" % ex.name())
        return
    work = tempfile.mkdtemp(prefix="frontline-doc.")
    tmux = None
    try:
        env = prepare(work)
        if "setup" in conf:
            r = subprocess.run(["bash", "-c", conf["setup"]], cwd=work, env=env,
                               capture_output=True, text=True)
            if r.returncode != 0:
                report.fail("%s: setup" % ex.name(), r.stdout + r.stderr)
                return
        if conf.get("console"):
            tmux = start_console(work, env)
        with open(os.path.join(work, "example.sh"), "w") as f:
            f.write(script_for(ex, conf, work, free_port()))
        try:
            subprocess.run(["bash", "example.sh"], cwd=work, env=env, timeout=180,
                           start_new_session=True)
        except subprocess.TimeoutExpired:
            pass
        # Replies may still be on their way to a background stream.
        deadline = time.time() + (20 if any(c.background for c in ex.commands) or tmux else 0)
        problems = check(ex, conf, work)
        while problems and time.time() < deadline:
            time.sleep(0.25)
            problems = check(ex, conf, work)
        for i, c in enumerate(ex.commands):
            what = "%s: $ %s" % (ex.name(), c.text.split("\n")[0])
            if i in problems:
                detail = "ran: %s\n%s\n--- its output:\n%s" % (c.run, problems[i], out_of(work, i))
                for j, b in enumerate(ex.commands[:i]):
                    if b.background:
                        detail += "\n--- the output of %s &:\n%s" % (b.run.split("\n")[0],
                                                                      out_of(work, j))
                report.fail(what, detail)
            else:
                report.ok(what)
    finally:
        kill_groups(work)
        if tmux:
            subprocess.run(["tmux", "-S", tmux, "kill-server"], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def main():
    lint = []
    examples = readme_examples(os.path.join(TOP_SRCDIR, "README"), lint)
    mandir = os.path.join(TOP_SRCDIR, "man")
    for name in sorted(os.listdir(mandir)):
        if re.search(r"\.[157]$", name):
            examples += man_examples(os.path.join(mandir, name), lint)
    only = sys.argv[1:]
    report = Report()
    for ex in examples:
        conf = config_for(ex)
        if only and not any(o in ex.name() for o in only):
            continue
        run_example(ex, conf, report)
    if not only:
        not_run_used = set()
        for doc, n, text in lint:
            why = [(d, p) for (d, p) in NOT_RUN if d == doc and text.startswith(p)]
            if why:
                not_run_used.add(why[0])
                print("ok - %s:%d: %s # SKIP %s" % (doc, n, text, NOT_RUN[why[0]]))
            else:
                report.fail("%s:%d: a command not written as an example ('$ ' first): %s"
                            % (doc, n, text))
        for doc, piece in set(NOT_RUN) - not_run_used:
            report.fail("NOT_RUN entry (%s, %r) matches no command line" % (doc, piece))
        for (doc, piece), conf in EXAMPLES.items():
            if not conf.get("used"):
                report.fail("EXAMPLES entry (%s, %r) matches no example" % (doc, piece))
        if len(examples) < 10:
            report.fail("only %d examples found: the extraction is broken" % len(examples))
    print("%d passed, %d failed" % (report.passed, report.failed))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())

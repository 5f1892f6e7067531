#!/usr/bin/env python3
"""make bench: learning curves of `frontline triage train` against fastText.

    bench-train.py FRONTLINE SRCDIR DATADIR [--draws N]

A team's own tickets, simulated by a public domain held out of the base
corpus: the shipped corpus (data/triage/*.tsv) minus every line of the
domain is the base, and 0, 50, 200 and 1,000 of the domain's labelled
training examples are the team's data. Each model is measured on the
domain's test split, six-way (out_of_scope counts as general):
  * frontline: `frontline triage train` on the base and the team's examples
    (its weighting rule: the team's examples weigh as much as the base),
    then `frontline triage eval`; with 0 examples this is the model the
    base alone makes, the shipped model as it would be without the domain;
  * fastText on exactly the same lines, and on the same lines with the
    team's repeated as frontline weights them (same weighting, other model).
fastText's settings are chosen per domain on a dev split of the domain's
training data (never the test split), from a small grid, with 200 examples.
Each size is the mean over --draws random draws (default 3). Macro-F1 is
the mean over every category labelled or predicted, as `triage eval` and
replay report it: a model that answers a category the domain never has
pays for it.
Also: time and peak memory of training on 30,000 lines, with and without
the base corpus. Measures only: it never fails a build.
"""
import csv
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_triage", f"{HERE}/bench-triage.py")
bt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bt)

SIZES = (50, 200, 1000)
GRID = [dict(epoch=e, lr=lr, wordNgrams=2, minn=3, maxn=5, dim=50)
        for e in (25, 50) for lr in (0.5, 1.0)]


def clean(text):
    """As tools/triage-corpus.py writes a corpus line."""
    return " ".join(text.replace("\t", " ").split())


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [tuple(l.rstrip("\n").split("\t", 1)) for l in f if "\t" in l]


def write_tsv(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for label, text in rows:
            f.write(f"{label}\t{text}\n")


def domains(data):
    """name -> (pool, dev, test): the domain's labelled training examples, a dev split, the test split."""
    m = bt.load_map(data)
    out = {}
    rows = lambda split: [(m[("banking77", r["category"])], clean(r["text"]))
                          for r in csv.DictReader(open(f"{data}/banking77/{split}.csv",
                                                       newline="", encoding="utf-8"))]
    pool = rows("train")
    random.Random(0).shuffle(pool)
    out["banking77"] = (pool[:-2000], pool[-2000:], rows("test"))
    with open(f"{data}/clinc150/data_full.json", encoding="utf-8") as f:
        clinc = json.load(f)
    with open(f"{data}/clinc150/domains.json", encoding="utf-8") as f:
        doms = json.load(f)
    intents = set(doms["banking"] + doms["credit_cards"])
    part = lambda split: [(m.get(("clinc150", i), "out_of_scope"), clean(t))
                          for t, i in clinc[split] if i in intents]
    out["clinc150 banking+credit_cards"] = (part("train"), part("val"), part("test"))
    return out


def frontline(exe, datadir, args):
    """Runs frontline on a data directory whose data/triage/*.tsv is the base corpus."""
    env = dict(os.environ, FRONTLINE_DATADIR=datadir, FRONTLINE_TODAY="2026-11-24",
               XDG_DATA_HOME=datadir + "/xdg")
    env.pop("FRONTLINE_MODEL", None)
    p = subprocess.run([exe] + args, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p.stdout


def f_eval(exe, datadir, model, test_tsv):
    j = json.loads(frontline(exe, datadir, ["triage", "eval", "--json", "--model", model, test_tsv]))
    return j["triage"]["accuracy"], j["triage"]["macro_f1"]


def scores(gold, pred):
    """Accuracy and macro-F1 as `frontline triage eval` and replay compute them (and
    scikit-learn by default): the mean F1 over every category labelled or predicted."""
    acc = sum(g == p for g, p in zip(gold, pred)) / len(gold)
    f1s = []
    for c in set(gold) | set(pred):
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return acc, sum(f1s) / len(f1s)


def ft_score(rows, tmp, settings, test):
    model = bt.fasttext_train(rows, tmp, settings, "ft")
    pred = bt.fasttext_predict(model, [t for _, t in test], tmp)
    os.unlink(model)
    return scores([bt.six(l) for l, _ in test], pred)


def weight(nbase, nteam):
    """The rule frontline prints: round(base / team), at least 1."""
    return max(1, (nbase + nteam // 2) // nteam) if nteam and nbase > nteam else 1


def mean(xs):
    return sum(xs) / len(xs)


def main():
    exe, src, data = sys.argv[1:4]
    draws = int(sys.argv[sys.argv.index("--draws") + 1]) if "--draws" in sys.argv else 3
    have_ft = shutil.which("fasttext") is not None
    if not have_ft:
        print("fastText not found (Debian package fasttext): frontline's figures only")
    corpus = {}
    for name in sorted(os.listdir(f"{src}/data/triage")):
        if name.endswith(".tsv"):
            corpus[name] = read_tsv(f"{src}/data/triage/{name}")
    tmp = tempfile.mkdtemp(prefix="frontline-train-")
    try:
        for dname, (pool, dev, test) in domains(data).items():
            texts = {t for _, t in pool + dev + test}
            dd = f"{tmp}/datadir"
            shutil.rmtree(dd, ignore_errors=True)
            os.makedirs(f"{dd}/data/triage")
            base = []
            for name, rows in corpus.items():
                kept = [r for r in rows if r[1] not in texts]
                write_tsv(f"{dd}/data/triage/{name}", kept)
                base += kept
            test_tsv = f"{tmp}/test.tsv"
            write_tsv(test_tsv, test)
            print(f"\n### {dname}: base {len(base)} lines (the shipped corpus without the "
                  f"domain's {sum(len(r) for r in corpus.values()) - len(base)}), "
                  f"pool {len(pool)}, dev {len(dev)}, test {len(test)}")
            settings = None
            if have_ft:
                sample = random.Random(1).sample(pool, 200)
                tried = [(ft_score(base + sample, tmp, s, dev)[1], i) for i, s in enumerate(GRID)]
                settings = GRID[max(tried)[1]]
                print(f"fastText settings (best dev macro-F1 {max(tried)[0]:.4f} at 200 examples): "
                      f"{settings}")
            empty = f"{tmp}/empty.tsv"
            open(empty, "w").close()
            frontline(exe, dd, ["triage", "train", "--out", f"{tmp}/base.model", empty])
            fa, ff = f_eval(exe, dd, f"{tmp}/base.model", test_tsv)
            print()
            print("| in-domain examples | frontline macro-F1 | fastText, same lines | "
                  "fastText, same weighting | frontline acc | fastText acc | "
                  "frontline - fastText | frontline - base model |")
            print("|---|---|---|---|---|---|---|---|")
            base_f1 = ff
            if have_ft:
                fta, ft0 = ft_score(base, tmp, settings, test)
                print(f"| 0 (base model) | {ff:.4f} | {ft0:.4f} | {ft0:.4f} | {fa:.4f} | "
                      f"{fta:.4f} | {ff - ft0:+.4f} | - |")
            else:
                print(f"| 0 (base model) | {ff:.4f} | - | - | {fa:.4f} | - | - | - |")
            for k in SIZES:
                if k > len(pool):
                    continue
                f1s, accs, ft1, ft2, fta = [], [], [], [], []
                for d in range(draws):
                    team = random.Random(100 + d).sample(pool, k)
                    team_tsv = f"{tmp}/team.tsv"
                    write_tsv(team_tsv, team)
                    frontline(exe, dd, ["triage", "train", "--out", f"{tmp}/m.model", team_tsv])
                    a, f = f_eval(exe, dd, f"{tmp}/m.model", test_tsv)
                    accs.append(a)
                    f1s.append(f)
                    if have_ft:
                        a, f = ft_score(base + team, tmp, settings, test)
                        fta.append(a)
                        ft1.append(f)
                        w = weight(len(base), k)
                        ft2.append(ft_score(base + team * w, tmp, settings, test)[1])
                spread = f" ({min(f1s):.3f}-{max(f1s):.3f})" if draws > 1 else ""
                if have_ft:
                    print(f"| {k} | {mean(f1s):.4f}{spread} | {mean(ft1):.4f} | {mean(ft2):.4f} | "
                          f"{mean(accs):.4f} | {mean(fta):.4f} | {mean(f1s) - mean(ft1):+.4f} | "
                          f"{mean(f1s) - base_f1:+.4f} |")
                else:
                    print(f"| {k} | {mean(f1s):.4f}{spread} | - | - | {mean(accs):.4f} | - | - | "
                          f"{mean(f1s) - base_f1:+.4f} |")

        # Training cost: 30,000 lines of a team's.
        lines = [r for rows in corpus.values() for r in rows]
        random.Random(2).shuffle(lines)
        big = f"{tmp}/30k.tsv"
        write_tsv(big, lines[:30000])
        print("\n| training | lines | seconds | peak RSS |")
        print("|---|---|---|---|")
        for args, what in ((["--no-base"], "30,000 lines alone (--no-base)"),
                           ([], "30,000 lines with the base corpus")):
            # The whole command: reading, two trainings on two threads, the comparison
            # with the model in use, writing the model.
            secs, kib = bt.measure(["env", f"FRONTLINE_DATADIR={src}",
                                    f"FRONTLINE_MODEL={tmp}/base.model", exe, "triage", "train",
                                    "--out", f"{tmp}/big.model"] + args + [big], os.devnull)
            n = 30000 if args else 30000 + sum(len(r) for r in corpus.values())
            print(f"| {what} | {n} | {secs:.2f} | {kib / 1024:.1f} MiB |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""make bench: the triage agent against fastText on real data, in one run.

    bench-triage.py FRONTLINE SRCDIR DATADIR [--lines N]

Accuracy and macro-F1 in the six-way category space on banking77 test,
on the Bitext 4514 rows whose text is not in the 6480 training file, and
on CLINC150 test; the share of CLINC150 oos_test classified general;
sentiment (3-way on airline tweets with annotator confidence 1.0, Pearson
r against the VADER tweets gold); throughput and peak memory over N lines
(default 200,000). fastText is trained on the same corpus with settings
chosen on a held-out tenth of it. Measures only: it never fails a build.
"""
import csv
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

CATS = ["billing", "technical", "account", "shipping", "returns", "general"]


def load_map(data):
    m = {}
    with open(f"{data}/category_map_suggested.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            m[(row["dataset"], row["label"])] = row["category"]
    m[("banking77", "card_delivery_estimate")] = "shipping"
    return m


def six(label):
    return "general" if label == "out_of_scope" else label


def one_line(text):
    return " ".join(text.split())


def test_sets(data):
    m = load_map(data)
    sets = {}
    with open(f"{data}/banking77/test.csv", newline="", encoding="utf-8") as f:
        sets["banking77 test"] = [(one_line(r["text"]), six(m[("banking77", r["category"])]))
                                  for r in csv.DictReader(f)]
    with open(f"{data}/bitext_customer_support/bitext_cs_training_6480.csv", newline="",
              encoding="utf-8") as f:
        seen = {r["instruction"] for r in csv.DictReader(f)}
    with open(f"{data}/bitext_customer_support/bitext_cs_training_4514.csv", newline="",
              encoding="utf-8") as f:
        sets["bitext 4514 unseen"] = [
            (one_line(r["instruction"]), six(m[("bitext_customer_support", r["intent"])]))
            for r in csv.DictReader(f) if r["instruction"] not in seen]
    with open(f"{data}/clinc150/data_full.json", encoding="utf-8") as f:
        clinc = json.load(f)
    sets["clinc150 test"] = [(one_line(t), six(m.get(("clinc150", i), "out_of_scope")))
                             for t, i in clinc["test"]]
    sets["clinc150 oos_test"] = [(one_line(t), "general") for t, _ in clinc["oos_test"]]
    return sets


def scores(gold, pred):
    acc = sum(g == p for g, p in zip(gold, pred)) / len(gold)
    f1s = []
    for c in set(gold):
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return acc, sum(f1s) / len(f1s)


def run_frontline(frontline, srcdir, texts):
    env = dict(os.environ, FRONTLINE_DATADIR=srcdir, FRONTLINE_TODAY="2026-11-24")
    out = subprocess.run([frontline, "triage"], input="\n".join(texts) + "\n", text=True,
                         capture_output=True, env=env, check=True).stdout
    return [json.loads(l) for l in out.splitlines()]


FT_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def ft_text(text):
    return " ".join(FT_TOKEN.findall(text.lower()))


def fasttext_train(corpus, tmp, settings, name):
    train = f"{tmp}/{name}.txt"
    with open(train, "w", encoding="utf-8") as f:
        for label, text in corpus:
            f.write(f"__label__{label} {ft_text(text)}\n")
    args = ["fasttext", "supervised", "-input", train, "-output", f"{tmp}/{name}",
            "-thread", "2", "-seed", "1", "-verbose", "0"]
    for k, v in settings.items():
        args += [f"-{k}", str(v)]
    subprocess.run(args, check=True, capture_output=True)
    return f"{tmp}/{name}.bin"


def fasttext_predict(model, texts, tmp):
    path = f"{tmp}/predict.txt"
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(ft_text(t) + "\n")
    out = subprocess.run(["fasttext", "predict", model, path], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    return [six(l.replace("__label__", "").strip()) for l in out]


def measure(cmd, stdin_path):
    """Wall time and peak RSS (KiB) of one command, run from a fresh child."""
    probe = ("import resource,subprocess,sys,time;t=time.time();"
             "subprocess.run(sys.argv[2:],stdin=open(sys.argv[1]),stdout=subprocess.DEVNULL,check=True);"
             "print(time.time()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, stdin_path] + cmd, capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), int(out[1])


def main():
    frontline, srcdir, data = sys.argv[1:4]
    nlines = int(sys.argv[sys.argv.index("--lines") + 1]) if "--lines" in sys.argv else 200000
    if "--model" in sys.argv:
        os.environ["FRONTLINE_MODEL"] = sys.argv[sys.argv.index("--model") + 1]
    have_ft = shutil.which("fasttext") is not None
    if not have_ft:
        print("fastText not found (Debian package fasttext): comparing nothing against it")
    corpus = []
    for name in ("train.tsv", "acme.tsv"):
        path = f"{srcdir}/data/triage/{name}"
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                corpus += [tuple(l.rstrip("\n").split("\t", 1)) for l in f if "\t" in l]
    sets = test_sets(data)
    tmp = tempfile.mkdtemp(prefix="frontline-bench-")
    try:
        model = None
        if have_ft:
            held = [x for i, x in enumerate(corpus) if i % 10 == 9]
            train = [x for i, x in enumerate(corpus) if i % 10 != 9]
            grid = [dict(epoch=e, lr=lr, wordNgrams=w, minn=mn, maxn=mx, dim=50)
                    for e in (10, 25) for lr in (0.5, 1.0) for w in (1, 2)
                    for mn, mx in ((0, 0), (3, 5))]
            best = None
            for i, s in enumerate(grid):
                mdl = fasttext_train(train, tmp, s, f"grid{i}")
                acc, _ = scores([six(l) for l, _ in held],
                                fasttext_predict(mdl, [t for _, t in held], tmp))
                if best is None or acc > best[0]:
                    best = (acc, s)
                os.unlink(mdl)
            print(f"fastText settings chosen on a held-out tenth of the corpus: {best[1]} "
                  f"(held-out accuracy {best[0]:.4f})")
            model = fasttext_train(corpus, tmp, best[1], "final")
        print()
        print("| set | n | frontline acc | frontline macro-F1 | fastText acc | fastText macro-F1 |")
        print("|---|---|---|---|---|---|")
        for name, rows in sets.items():
            texts = [t for t, _ in rows]
            gold = [g for _, g in rows]
            ours = [r["intent_category"] for r in run_frontline(frontline, srcdir, texts)]
            a, f = scores(gold, ours)
            if model:
                fa, ff = scores(gold, fasttext_predict(model, texts, tmp))
                print(f"| {name} | {len(rows)} | {a:.4f} | {f:.4f} | {fa:.4f} | {ff:.4f} |")
            else:
                print(f"| {name} | {len(rows)} | {a:.4f} | {f:.4f} | - | - |")

        # Sentiment.
        print()
        air = f"{data}/airline_sentiment_nc/Tweets.csv"
        if os.path.exists(air):
            with open(air, newline="", encoding="utf-8") as f:
                rows = [(one_line(r["text"]), {"negative": "frustrated"}.get(
                    r["airline_sentiment"], r["airline_sentiment"]))
                        for r in csv.DictReader(f) if float(r["airline_sentiment_confidence"]) >= 1.0]
            res = run_frontline(frontline, srcdir, [t for t, _ in rows])
            a, f = scores([g for _, g in rows], [r["sentiment"] for r in res])
            print(f"sentiment, airline tweets (confidence 1.0, n={len(rows)}): "
                  f"3-way accuracy {a:.4f}, macro-F1 {f:.4f}")
        gt = f"{data}/vader/tweets_GroundTruth.txt"
        if os.path.exists(gt):
            with open(gt, encoding="utf-8") as f:
                rows = [l.rstrip("\r\n").split("\t", 2) for l in f if l.strip()]
            res = run_frontline(frontline, srcdir, [one_line(r[2]) for r in rows])
            xs = [r["sentiment_score"] for r in res]
            ys = [float(r[1]) for r in rows]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            r = cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))
            print(f"sentiment, VADER tweets gold (n={len(rows)}): Pearson r {r:.4f}")

        # Throughput over the same lines for both.
        pool = [t for rows in sets.values() for t, _ in rows]
        random.Random(1).shuffle(pool)
        lines = [pool[i % len(pool)] for i in range(nlines)]
        raw = f"{tmp}/lines.txt"
        with open(raw, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        env_cmd = ["env", f"FRONTLINE_DATADIR={srcdir}", frontline, "triage"]
        t, rss = measure(env_cmd, raw)
        t1, rss1 = measure(env_cmd + ["--jobs", "1"], raw)
        print()
        print("| engine | lines | seconds | lines/s | peak RSS |")
        print("|---|---|---|---|---|")
        print(f"| frontline triage, full TriageResult, {os.cpu_count()} threads | {nlines} | {t:.2f} | {nlines / t:,.0f} | {rss / 1024:.1f} MiB |")
        print(f"| frontline triage, full TriageResult, --jobs 1 | {nlines} | {t1:.2f} | {nlines / t1:,.0f} | {rss1 / 1024:.1f} MiB |")
        if model:
            tok = f"{tmp}/lines-tok.txt"
            with open(tok, "w", encoding="utf-8") as f:
                f.write("\n".join(ft_text(l) for l in lines) + "\n")
            ft, frss = measure(["fasttext", "predict", model, "-"], tok)
            print(f"| fasttext predict, label only (single-threaded) | {nlines} | {ft:.2f} | {nlines / ft:,.0f} | {frss / 1024:.1f} MiB |")
            print(f"\nfrontline/fastText throughput: {ft / t:.2f}x with {os.cpu_count()} threads, "
                  f"{ft / t1:.2f}x on one")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

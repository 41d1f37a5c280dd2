"""Writes sentiment/en_vader.json: the words of VADER's lexicon (vaderSentiment 3.3.2 on PyPI,
MIT, C.J. Hutto) that the hand-written sentiment/en.json lacks, on its scale.

    pip download vaderSentiment==3.3.2 --no-deps && unzip vaderSentiment-3.3.2-*.whl
    pip install snowballstemmer
    python3 from_vader.py vaderSentiment/vader_lexicon.txt

Kept: words of four or more ASCII letters (and a few short ones), whose mean rating is at
least 0.8 either way, that are not function words, negators or rule words of rules/en.json
(but for `faults` and `warned`, complaints of their own),
nor words, or forms of words, that name a thing in customer comments (cut, tops, gift,
support) or hope for something not had (hoping), nor adverbs that frame what is said
(honestly), nor Italian or Spanish words (the English words of these files
tell English from Italian), nor words whose stem (Snowball, as Hark stems) the hand-written
file has: it decides those. Hark matches these words as written, not by their stem.
"""

import json
import pathlib
import sys

import snowballstemmer

HERE = pathlib.Path(__file__).parent
SHORT = {"wow", "yay", "ugh", "fab", "fav", "joy", "hug", "sob", "mad", "wtf", "ffs", "smh", "woe", "dud", "shy", "thx"}
# Words with a plain sense in customer comments, or of hopes and surprises that go either way.
PLAIN = set("""
pretty kind like well fit fits fitted free please help helps care sure true clear matter matters hot cool cold
fine fun funny kinda want wants wanted wish hope hopes hoped hoping hopefully god jesus yeah thanks thank sorry
mean means joke play playing party parties dear fan fans cute sweet sheer tight loose warm warmer heavy light dark
cheap expensive rich richer poor worth cut cuts worn tops casual hand straight lower special holiday chance natural
dream dreams gift gifts support supported supporting giving created creates creating create original stop stops
interest interested drop drops liberty active allow allowed alert certain certainly definite definitely clearly
excited surprise surprised surprisingly forced blocking mature secure prepared importantly fyi bright brighter
bold relaxed agree agreed kia substantial justice lose lost crazy alone giving ease stuck warning
promise promised promises
""".split())
# Adverbs that frame what is said rather than praise it: "it honestly looked matronly",
# "Sincerely, Anna". Left out as written; their stems' words stay (honest pricing).
ASIDE = {"honestly", "frankly", "sincerely"}
ROMANCE = set("""
amorino amoroso magnifico vigoroso virtuoso virtuosi virtuosa supremo perfecto perfecta gracioso hago relievo
fiasco fiesta pukka mia tia bravo brava bella bello amore dolce
""".split())


def main(vader_path):
    stem = snowballstemmer.stemmer("english").stemWord
    ours = json.loads((HERE / "sentiment/en.json").read_text())
    rules = json.loads((HERE / "rules/en.json").read_text())
    # The faults of "my only complaint" (flaw, downside) are complaints of their own elsewhere,
    # and so are the verbs of a warning ("don't bother": a bother). The words of a repeat
    # contact (call, several, times) mark where to look, and mean what they mean: "severe" is
    # no "several".
    own = {"faults", "warned", "once", "times", "counts", "repeated"}
    ruled = {w for key in rules if key not in own for w in (rules[key] if isinstance(rules[key], list) else rules[key].keys())}
    italian = json.loads((HERE / "sentiment/it.json").read_text())
    ours_stems = {stem(w.lower()) for w in ours if " " not in w}
    # And the forms of a plain word: supports as much as support.
    left_out = ours_stems | {stem(w) for w in PLAIN | ROMANCE | ruled}
    out = {}
    for line in open(vader_path, encoding="utf-8"):
        word, mean = line.split("\t")[:2]
        value = max(-3, min(3, round(float(mean))))
        if not (word.isascii() and word.isalpha() and word.islower()) or abs(float(mean)) < 0.8:
            continue
        if (len(word) < 4 and word not in SHORT) or word in PLAIN or word in ROMANCE or word in ASIDE:
            continue
        if word in ruled or word in italian or stem(word) in left_out:
            continue
        out[word] = value
    path = HERE / "sentiment/en_vader.json"
    path.write_text(json.dumps(dict(sorted(out.items())), ensure_ascii=False, indent=2) + "\n")
    print(f"{len(out)} words to {path}")


if __name__ == "__main__":
    main(sys.argv[1])

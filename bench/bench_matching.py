"""Per-message cost of the SOP's text matching: keyword hooks, question detection, FAQ matching.

    .venv/bin/python bench/bench_matching.py [--quick] [--messages N] [--seed S]

A seeded synthetic world: 500 hooks (about 1,000 keywords: Latin words, CJK words, numbers like
666/888, mixed "VIP会员"-like words, phrases with a space), 2,000 FAQ entries (zh and en), and N
chat messages (default 5,000; 5–300 characters of zh, en or both, a share carrying hook keywords,
questions, or paraphrases of FAQ questions). Each message is timed on its own
(``perf_counter_ns``), every stage in the same run:

- baseline: ``normalize`` only (what any matcher must pay to read the text);
- keywords: ``KeywordMatcher.match``;
- questions: ``is_question``;
- FAQ: ``FaqMatcher.best``, on the messages detected as questions;
- all: keywords + questions + (FAQ when a question), as the engine calls them.

Printed: mean, p50, p99 (µs) per stage, the ratio of the mean and p99 to the issue's target
(0.2 ms per message) and of the mean to the baseline's mean, and the matchers' build times.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import _common as c

from sop.faq import FaqEntry, FaqMatcher
from sop.keywords import KeywordMatcher, normalize
from sop.questions import is_question

#: the issue's target (issue 3, "Benchmark"): under 0.2 ms per message on this machine
TARGET_US = 200.0
HOOKS, FAQ_ENTRIES, MESSAGES, QUICK_MESSAGES = 500, 2000, 5000, 1000
SEED = 20261122
ROUNDS = 3  # each stage runs over the corpus this often; per message, the fastest

HAN = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能"
    "下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量"
    "都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重"
    "新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已"
    "通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将"
    "组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热"
    "领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带"
    "安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步"
    "群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备"
    "半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院"
)
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ter",
    "vin",
    "po",
    "sa",
    "ru",
    "ne",
    "dex",
    "qua",
    "zo",
    "bel",
    "tri",
    "mon",
    "fa",
    "gu",
    "li",
    "pra",
    "sto",
]
EN_CHAT = [
    "hello",
    "everyone",
    "today",
    "great",
    "session",
    "thanks",
    "nice",
    "see",
    "you",
    "later",
    "the",
    "product",
    "really",
    "good",
    "love",
    "this",
    "community",
    "morning",
    "night",
    "live",
    "stream",
    "price",
    "new",
    "order",
    "friend",
    "share",
    "photo",
    "lol",
]
ZH_QUESTION = ["怎么", "如何", "为什么", "什么时候", "多少钱", "能不能", "是不是", "有没有", "请问"]
EN_QUESTION = [
    "how do i",
    "what is",
    "why is",
    "when does",
    "where is",
    "can i",
    "is there",
    "does anyone know",
]
ZH_VERBS = ["使用", "领取", "加入", "申请", "修改", "取消", "兑换", "查看", "购买", "退回"]
EN_VERBS = [
    "use",
    "claim",
    "join",
    "apply for",
    "change",
    "cancel",
    "redeem",
    "check",
    "buy",
    "return",
]


def han_word(rng: random.Random, lo: int = 2, hi: int = 4) -> str:
    return "".join(rng.choice(HAN) for _ in range(rng.randint(lo, hi)))


def en_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


def make_hooks(rng: random.Random, count: int) -> list[tuple[str, list[str]]]:
    """About two keywords a hook: 40% Latin words, 35% CJK, 10% numbers, 10% mixed, 5% phrases."""
    hooks: list[tuple[str, list[str]]] = []
    for i in range(count):
        keywords = []
        for _ in range(rng.choice((1, 2, 2, 3))):
            kind = rng.random()
            if kind < 0.40:
                keywords.append(en_word(rng))
            elif kind < 0.75:
                keywords.append(han_word(rng))
            elif kind < 0.85:
                keywords.append(
                    rng.choice(("666", "888", "999", "1688", "520"))
                    if rng.random() < 0.3
                    else str(rng.randint(100, 99_999))
                )
            elif kind < 0.95:
                keywords.append(en_word(rng).upper()[:3] + han_word(rng, 2, 2))
            else:
                keywords.append(f"{en_word(rng)} {en_word(rng)}")
        hooks.append((f"hook_{i}", keywords))
    return hooks


def make_faq(rng: random.Random, count: int) -> list[FaqEntry]:
    entries = []
    for i in range(count):
        if rng.random() < 0.6:
            topic, verb = han_word(rng), rng.choice(ZH_VERBS)
            question = rng.choice(
                (
                    f"怎么{verb}{topic}？",
                    f"{topic}如何{verb}",
                    f"请问{topic}能{verb}吗",
                    f"{topic}{verb}要多久",
                )
            )
        else:
            topic, verb = en_word(rng), rng.choice(EN_VERBS)
            question = rng.choice(
                (
                    f"How do I {verb} a {topic}?",
                    f"Can I {verb} my {topic}?",
                    f"How long does it take to {verb} the {topic}?",
                )
            )
        entries.append(FaqEntry(question, f"answer {i}"))
    return entries


def make_messages(
    rng: random.Random, count: int, hooks: Sequence[tuple[str, list[str]]], faq: Sequence[FaqEntry]
) -> list[str]:
    """Chatter of 5–300 characters; ~20% carry a hook keyword, ~25% ask, ~10% paraphrase an FAQ."""
    messages = []
    for _ in range(count):
        target = rng.choice(
            (rng.randint(5, 40), rng.randint(5, 40), rng.randint(20, 120), rng.randint(60, 300))
        )
        parts: list[str] = []
        roll = rng.random()
        if roll < 0.10:
            parts.append(rng.choice(faq).question.rstrip("?？"))  # a paraphrase, roughly
        elif roll < 0.25:
            parts.append(rng.choice(ZH_QUESTION + EN_QUESTION))
        if rng.random() < 0.20:
            parts.append(rng.choice(rng.choice(hooks)[1]))
        while sum(len(p) + 1 for p in parts) < target:
            pick = rng.random()
            if pick < 0.45:
                parts.append(han_word(rng, 2, 12) + rng.choice(("", "", "，", "。", "！", "😂")))
            elif pick < 0.85:
                parts.append(" ".join(rng.choice(EN_CHAT) for _ in range(rng.randint(1, 6))))
            else:
                parts.append(rng.choice(("👍", "🎉", "６６６", "ＯＫ", "!!", "...", "～")))
        if roll < 0.25 and rng.random() < 0.5:
            parts.append(rng.choice(("?", "？")))
        text = " ".join(parts)[:300]
        messages.append(text if len(text) >= 5 else text + " 👍👍👍👍")
    return messages


def timed(fn: Callable[[str], object], messages: Sequence[str]) -> list[float]:
    """Per message, µs: the fastest of ROUNDS passes over the corpus (GC off while timing)."""
    best = [float("inf")] * len(messages)
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for _ in range(ROUNDS):
            for i, text in enumerate(messages):
                start = clock()
                fn(text)
                elapsed = clock() - start
                if elapsed < best[i]:
                    best[i] = elapsed
    finally:
        gc.enable()
    return [ns / 1000 for ns in best]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES} messages")
    p.add_argument("--messages", type=int, default=None, help=f"default {MESSAGES}")
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args()
    n = args.messages or (QUICK_MESSAGES if args.quick else MESSAGES)
    rng = random.Random(args.seed)
    wall = time.perf_counter()

    hooks = make_hooks(rng, HOOKS)
    faq = make_faq(rng, FAQ_ENTRIES)
    messages = make_messages(rng, n, hooks, faq)

    t0 = time.perf_counter()
    keywords = KeywordMatcher(hooks)
    t1 = time.perf_counter()
    faq_matcher = FaqMatcher(faq)
    t2 = time.perf_counter()

    questions = [m for m in messages if is_question(m)]
    hooked = sum(1 for m in messages if keywords.match(m))
    answered = sum(1 for m in questions if faq_matcher.best(m) is not None)

    def everything(text: str) -> None:
        keywords.match(text)
        if is_question(text):
            faq_matcher.best(text)

    stages: list[tuple[str, list[float]]] = [
        ("baseline: normalize", timed(normalize, messages)),
        ("keywords", timed(keywords.match, messages)),
        ("questions", timed(is_question, messages)),
        ("FAQ (questions only)", timed(faq_matcher.best, questions)),
        ("all together", timed(everything, messages)),
    ]

    lengths = [len(m) for m in messages]
    print(f"bench_matching — {c.machine()}")
    print(
        f"{len(hooks)} hooks ({sum(len(k) for _, k in hooks)} keywords), {len(faq)} FAQ "
        f"entries, {n} messages{' (quick)' if args.quick else ''} of {min(lengths)}–"
        f"{max(lengths)} chars (mean {statistics.fmean(lengths):.0f}), seed {args.seed}"
    )
    print(
        f"messages with a hook hit: {hooked} ({hooked / n:.0%}); detected as questions: "
        f"{len(questions)} ({len(questions) / n:.0%}); of those answered from the FAQ: "
        f"{answered} ({answered / max(1, len(questions)):.0%})"
    )
    print(f"build: KeywordMatcher {(t1 - t0) * 1000:.1f} ms, FaqMatcher {(t2 - t1) * 1000:.1f} ms")
    print(
        f"per message, µs (fastest of {ROUNDS} passes each); target {TARGET_US:.0f} µs (issue 3)\n"
    )
    base = statistics.fmean(stages[0][1])
    rows = []
    for name, micros in stages:
        mean = statistics.fmean(micros) if micros else float("nan")
        p99 = c.percentile(micros, 99)
        rows.append(
            [
                name,
                str(len(micros)),
                c.fmt(mean),
                c.fmt(c.percentile(micros, 50)),
                c.fmt(p99),
                c.fmt(max(micros) if micros else float("nan")),
                c.ratio(mean, TARGET_US),
                c.ratio(p99, TARGET_US),
                c.ratio(mean, base),
            ]
        )
    c.print_table(
        [
            "stage",
            "msgs",
            "mean",
            "p50",
            "p99",
            "max",
            "mean÷target",
            "p99÷target",
            "mean÷baseline",
        ],
        rows,
    )
    print(f"\ntotal wall time {time.perf_counter() - wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cost of language detection: resident memory added by importing the detector and
classifying once, and per-call latency (p50/p95) on the held-out French messages plus
English and Arabic ones.  Run: python scripts/bench_lang.py"""
from __future__ import annotations

import resource
import statistics
import time


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from bot.nludata import read_heldout  # loaded first: it is not the detector's cost

    texts = [m["text"] for m in read_heldout()]
    texts += ["hello, my husband hits me, I live in Laon", "زوجي يضربني وأنا خائفة", "ok", "/aide"]
    before = rss_mb()
    t0 = time.perf_counter()
    from bot.lang import detect_language

    detect_language("mon mari me frappe depuis des années")
    first = (time.perf_counter() - t0) * 1000
    after = rss_mb()
    times = []
    for _ in range(5):
        for t in texts:
            s = time.perf_counter()
            detect_language(t)
            times.append((time.perf_counter() - s) * 1000)
    times.sort()

    def p(q: float) -> float:
        return times[min(len(times) - 1, int(q * len(times)))]

    print(f"import + first call: {first:.0f} ms, RSS {before:.1f} -> {after:.1f} MB (+{after - before:.1f} MB)")
    print(f"detect_language, {len(times)} calls: p50 {p(0.50):.3f} ms, p95 {p(0.95):.3f} ms, "
          f"max {times[-1]:.3f} ms, mean {statistics.mean(times):.3f} ms")

    # English and Arabic danger/distress patterns, and the catalogs
    from bot.danger_i18n import detect
    from bot.i18n import translator

    before = rss_mb()
    t0 = time.perf_counter()
    for lang in ("en", "ar", "fr_FALC"):
        translator(lang).gettext("Arnaque")
    detect("he is outside", "en"), detect("ساعدوني", "ar")
    first = (time.perf_counter() - t0) * 1000
    after = rss_mb()
    en = [m["text"] for m in read_heldout("data/nlu_heldout_en.yml")]
    ar = ["زوجي يضربني الآن", "أريد أن أموت", "سرقوا هاتفي في الحافلة", "هو أمام الباب ويريد قتلي",
          "أنا في أمان الآن عند أختي", "ابنتي تتعرض للتنمر في المدرسة"]
    for name, lang, batch in (("en", "en", en), ("ar", "ar", ar * 20)):
        times = []
        for _ in range(5):
            for t in batch:
                s = time.perf_counter()
                detect(t, lang)
                times.append((time.perf_counter() - s) * 1000)
        times.sort()
        print(f"danger_i18n.detect {name}, {len(times)} calls: p50 {p(0.50):.3f} ms, p95 {p(0.95):.3f} ms")
    print(f"catalogs en+ar+fr_FALC and both lexicons loaded: {first:.0f} ms, RSS +{after - before:.1f} MB")


if __name__ == "__main__":
    main()

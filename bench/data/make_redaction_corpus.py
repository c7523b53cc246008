"""Writes bench/data/redaction_corpus.jsonl: labelled utterances for the redaction bench and test.

    .venv/bin/python bench/data/make_redaction_corpus.py

Deterministic (fixed seed). Each line is {"text": ...} or {"segments": [{"speaker", "text"}]}, with
"expect": [{"kind", "value", "segment"?, "occurrence"?}] — `value` is the exact substring that must
disappear (replaced by the kind's placeholder), `segment` the segment it is in (default 0),
`occurrence` which occurrence of it (default 0) — and a "note". An empty "expect" is a near-miss that
must be kept verbatim: order numbers failing Luhn, dates, amounts, times, tracking numbers, years,
quantities. Card numbers are the well-known test numbers plus computed Luhn-valid ones.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("redaction_corpus.jsonl")
SEED = 20261202

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = {10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen", 15: "fifteen", 16: "sixteen",
         17: "seventeen", 18: "eighteen", 19: "nineteen"}  # fmt: skip
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}
FILLERS = ["um", "uh", "er", "erm", "hmm", "you know", "sorry", "let me see", "uh, sorry", "um, let me see"]
TEST_CARDS = ["4111111111111111", "5500005555555559", "378282246310005", "6011111111111117", "4242424242424242",
              "5555555555554444", "371449635398431", "6011000990139424", "3530111333300000", "4012888888881881"]  # fmt: skip
BRANDS = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16),
          ("65", 16), ("3528", 16), ("36", 14), ("4", 19), ("6759", 19)]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_card(rng: random.Random) -> str:
    prefix, length = rng.choice(BRANDS)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def luhn_invalid(rng: random.Random, length: int = 16) -> str:
    body = str(rng.randrange(1, 10)) + "".join(rng.choice("0123456789") for _ in range(length - 2))
    return next(body + d for d in "0123456789" if not luhn_ok(body + d))


def aba(rng: random.Random) -> str:
    while True:
        body = rng.choice(["0", "1", "2", "3"]) + "".join(rng.choice("0123456789") for _ in range(7))
        for d in "0123456789":
            n = [int(c) for c in body + d]
            if (3 * (n[0] + n[3] + n[6]) + 7 * (n[1] + n[4] + n[7]) + n[2] + n[5] + n[8]) % 10 == 0:
                return body + d


def ssn(rng: random.Random) -> str:
    while True:
        area = rng.randrange(1, 900)
        if area != 666:
            return f"{area:03d}{rng.randrange(1, 100):02d}{rng.randrange(1, 10000):04d}"


def groups(digits: str, sizes: list[int] | None = None) -> list[str]:
    sizes = sizes or ([4, 6, 5] if len(digits) == 15 else [4, 6, 4] if len(digits) == 14 else [4] * 5)
    out, at = [], 0
    for size in sizes:
        if at < len(digits):
            out.append(digits[at : at + size])
            at += size
    if at < len(digits):
        out.append(digits[at:])
    return out


def say(digits: str, rng: random.Random, zero: str = "zero", doubles: bool = False) -> str:
    """Digit by digit, optionally with "double X" / "triple X" for repeats."""
    words, k = [], 0
    while k < len(digits):
        d = digits[k]
        word = zero if d == "0" else WORDS[int(d)]
        if doubles and digits[k : k + 3] == d * 3:
            words.append(f"triple {word}")
            k += 3
        elif doubles and digits[k : k + 2] == d * 2:
            words.append(f"double {word}")
            k += 2
        else:
            words.append(word)
            k += 1
    return " ".join(words)


def say_pairs(digits: str) -> str:
    """As pairs where it is natural: "41 11" -> "forty one eleven"; "05" -> "oh five"."""
    out = []
    for k in range(0, len(digits) - 1, 2):
        pair = int(digits[k : k + 2])
        if digits[k] == "0":
            out.append(f"oh {WORDS[pair]}")
        elif pair in TEENS:
            out.append(TEENS[pair])
        elif pair % 10 == 0:
            out.append(TENS[pair // 10])
        else:
            out.append(f"{TENS[pair // 10]} {WORDS[pair % 10]}")
    if len(digits) % 2:
        out.append(WORDS[int(digits[-1])])
    return " ".join(out)


def spoken_groups(digits: str, rng: random.Random, fillers: bool, sep: str = ", ", doubles: bool = False) -> str:
    parts = [say(g, rng, zero=rng.choice(["zero", "oh"]), doubles=doubles) for g in groups(digits)]
    out = parts[0]
    for part in parts[1:]:
        if fillers and rng.random() < 0.6:
            out += f"{sep}{rng.choice(FILLERS)}{sep}{part}"
        else:
            out += f"{sep}{part}"
    return out


def card_layouts(card: str, rng: random.Random) -> list[tuple[str, str]]:
    g = groups(card)
    return [
        ("typed grouped", " ".join(g)),
        ("typed contiguous", card),
        ("typed dashes", "-".join(g)),
        ("ASR full stops", ". ".join(g)),
        ("spoken digits", say(card, rng)),
        ("spoken groups with fillers", spoken_groups(card, rng, fillers=True)),
        ("spoken with double/triple", spoken_groups(card, rng, fillers=False, doubles=True)),
        ("spoken pairs", say_pairs(card)),
        ("mixed typed and spoken", " ".join(g[:2]) + " " + say("".join(g[2:]), rng, zero="oh")),
        ("ASR odd grouping", " ".join([card[:5], card[5:10], card[10:]])),
    ]


CARD_INTROS = [
    "my card number is {}",
    "sure, it's {}",
    "the long number is {} okay",
    "yeah so it's {}. got that?",
    "credit card {} thanks",
    "it's a visa, {}",
    "{}",
    "okay the number on the front is {}, that's it",
]


def line(text=None, segments=None, expect=(), note=""):
    entry: dict = {}
    if segments is not None:
        entry["segments"] = [{"speaker": s, "text": t} for s, t in segments]
    else:
        entry["text"] = text
    entry["expect"] = [dict(e) for e in expect]
    entry["note"] = note
    return entry


def exp(kind: str, value: str, segment: int | None = None, occurrence: int | None = None) -> dict:
    e: dict = {"kind": kind, "value": value}
    if segment:
        e["segment"] = segment
    if occurrence:
        e["occurrence"] = occurrence
    return e


def generated(rng: random.Random) -> list[dict]:
    out: list[dict] = []
    cards = TEST_CARDS + [luhn_card(rng) for _ in range(14)]
    # cards in every layout
    for card in cards:
        for note, layout in card_layouts(card, rng):
            out.append(line(rng.choice(CARD_INTROS).format(layout), expect=[exp("CARD", layout)], note=f"card: {note}"))
    # card split over two segments (ASR), same speaker and across speakers (diarization)
    for card in cards[:16]:
        g = groups(card)
        first, second = " ".join(g[:2]), " ".join(g[2:])
        speaker2 = rng.choice(["CUSTOMER", "AGENT"])
        if rng.random() < 0.5:
            first, second = spoken_groups("".join(g[:2]), rng, True), say("".join(g[2:]), rng)
        out.append(line(segments=[("CUSTOMER", f"it's {first}"), (speaker2, second)],
                        expect=[exp("CARD", first), exp("CARD", second, segment=1)],
                        note=f"card split over segments ({'same speaker' if speaker2 == 'CUSTOMER' else 'diarization: second half attributed to the agent'})"))  # fmt: skip
    # agent reads it back
    for card in cards[:8]:
        typed, spoken = " ".join(groups(card)), spoken_groups(card, rng, fillers=False)
        out.append(line(segments=[("CUSTOMER", f"the card is {spoken}"), ("AGENT", f"so that's {typed}, correct?"),
                                  ("CUSTOMER", "yes")],
                        expect=[exp("CARD", spoken), exp("CARD", typed, segment=1)], note="agent reads the card back"))  # fmt: skip
    # security codes
    for k in range(40):
        code = f"{rng.randrange(0, 1000):03d}" if k % 5 else f"{rng.randrange(0, 10000):04d}"
        form = rng.choice([code, say(code, rng, zero=rng.choice(["zero", "oh"]))])
        template = rng.choice([
            "the CVV is {}", "CVV {}", "security code {}", "the three digits on the back are {}",
            "um the code on the back is {}", "cvc, uh, {}", "{} is the security code", "and the security number is {}",
        ])  # fmt: skip
        out.append(line(template.format(form), expect=[exp("CARD_SECURITY_CODE", form)], note="security code"))
    for card in cards[:12]:
        code = f"{rng.randrange(0, 1000):03d}"
        typed = " ".join(groups(card))
        form = rng.choice([code, say(code, rng)])
        template = rng.choice(["{}, {}", "{} and the code is {}", "{}... {}", "{}, um, {}"])
        out.append(line(template.format(typed, form), expect=[exp("CARD", typed), exp("CARD_SECURITY_CODE", form)],
                        note="security code right after the card"))  # fmt: skip
    for k in range(10):
        code = f"{rng.randrange(100, 1000)}"
        form = say(code, rng)
        out.append(line(segments=[("AGENT", "and what's the security code on the back?"), ("CUSTOMER", f"it's {form}")],
                        expect=[exp("CARD_SECURITY_CODE", form, segment=1)], note="security code answered in the next segment"))  # fmt: skip
    # expiry dates
    for k in range(30):
        month, year = rng.randrange(1, 13), rng.randrange(25, 35)
        form = rng.choice([
            f"{month:02d}/{year}", f"{month:02d}/20{year}", f"{month}/{year}",
            f"oh {WORDS[month]} {say_pairs(str(year))}" if month < 10 else f"{say_pairs(str(month))} {say_pairs(str(year))}",
            f"{MONTHS[month - 1]} 20{year}", f"{MONTHS[month - 1]} twenty {say_pairs(str(year))}",
        ])  # fmt: skip
        template = rng.choice(["it expires {}", "expiry date {}", "the expiration is {}", "exp {}", "valid thru {}",
                               "and it expires, um, {}"])  # fmt: skip
        out.append(line(template.format(form), expect=[exp("CARD_EXPIRY", form)], note="expiry date"))
    for card in cards[:10]:
        month, year = rng.randrange(1, 13), rng.randrange(25, 35)
        typed = " ".join(groups(card))
        out.append(line(f"card {typed} expiring {month:02d}/{year}",
                        expect=[exp("CARD", typed), exp("CARD_EXPIRY", f"{month:02d}/{year}")], note="card then expiry"))  # fmt: skip
    # SSNs
    for k in range(30):
        number = ssn(rng)
        form = rng.choice([
            f"{number[:3]}-{number[3:5]}-{number[5:]}", f"{number[:3]} {number[3:5]} {number[5:]}", number,
            say(number, rng), f"{say(number[:3], rng)}, {say(number[3:5], rng)}, {say(number[5:], rng)}",
        ])
        template = rng.choice(["my social is {}", "SSN {}", "social security number {}", "it's {} for the social",
                               "my social security number is, um, {}"])  # fmt: skip
        out.append(line(template.format(form), expect=[exp("SSN", form)], note="SSN"))
    # routing and account numbers
    for k in range(16):
        number = aba(rng)
        form = rng.choice([number, say(number, rng)])
        out.append(line(rng.choice(["routing number {}", "the routing is {}", "ABA {}"]).format(form),
                        expect=[exp("ROUTING_NUMBER", form)], note="routing number (ABA checksum)"))  # fmt: skip
    for k in range(20):
        number = "".join(rng.choice("0123456789") for _ in range(rng.randrange(8, 13)))
        form = rng.choice([number, say(number, rng)])
        template = rng.choice(["account number {}", "my checking account is {}", "acct {}", "the account number is, uh, {}"])
        out.append(line(template.format(form), expect=[exp("BANK_ACCOUNT", form)], note="bank account number"))
    # phone numbers are PHONE, not cards
    for k in range(16):
        area, mid, last = rng.randrange(201, 990), rng.randrange(200, 999), rng.randrange(0, 10000)
        form = rng.choice([f"({area}) {mid}-{last:04d}", f"{area}-{mid}-{last:04d}", f"+1 {area} {mid} {last:04d}",
                           f"{say(str(area), rng)}, {say(str(mid), rng)}, {say(f'{last:04d}', rng)}"])  # fmt: skip
        out.append(line(rng.choice(["call me back on {}", "my phone number is {}", "you can reach me at {}"]).format(form),
                        expect=[exp("PHONE", form)], note="phone number"))  # fmt: skip
    # near-misses that must be kept
    for k in range(30):
        order = luhn_invalid(rng, rng.choice([13, 16, 16, 19]))
        form = rng.choice([order, " ".join(groups(order)), say(order, rng)])
        template = rng.choice(["my order number is {}", "reference {} on the invoice", "the confirmation is {}", "{} is the order"])
        out.append(line(template.format(form), note="order number failing Luhn: kept"))
    for k in range(12):
        number = luhn_invalid(rng, 16)
        out.append(line(f"your card number {' '.join(groups(number))} didn't go through", note="Luhn-invalid 16 digits said as a card: kept (not a card)"))  # fmt: skip
    for k in range(20):
        dollars, cents = rng.randrange(1, 5000), rng.randrange(0, 100)
        out.append(line(rng.choice([f"the total is ${dollars:,}.{cents:02d}", f"that's {dollars} dollars",
                                    f"a payment of ${dollars} on the card", f"it was {dollars}.{cents:02d} euros",
                                    f"the balance on the card is \u00a3{dollars:,}"]), note="amount: kept"))  # fmt: skip
    for k in range(15):
        m, d, y = rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(1990, 2026)
        out.append(line(rng.choice([f"it was delivered on {m}/{d}/{y}", f"the appointment is {y}-{m:02d}-{d:02d}",
                                    f"I called on {MONTHS[m - 1]} {d}, {y}", f"back in {y} I think"]), note="date or year: kept"))  # fmt: skip
    for k in range(10):
        h, mi = rng.randrange(1, 13), rng.choice([0, 15, 30, 45])
        out.append(line(rng.choice([f"call me at {h}:{mi:02d} about the card", f"the branch opens at {h}:{mi:02d}",
                                    f"between {h} and {h + 1} pm"]), note="time: kept"))  # fmt: skip
    for k in range(10):
        digits = "9400" + "".join(rng.choice("0123456789") for _ in range(18))
        form = rng.choice([digits, " ".join(digits[i : i + 4] for i in range(0, 22, 4))])
        out.append(line(f"the tracking number is {form}", note="USPS tracking number (22 digits): kept"))
    for k in range(10):
        out.append(line(rng.choice([
            f"I ordered {rng.randrange(2, 50)} boxes of {rng.randrange(6, 48)}", f"room {rng.randrange(100, 1999)} please",
            f"the zip code is {rng.randrange(10000, 99999)}", f"it's version {rng.randrange(1, 20)}.{rng.randrange(0, 10)}.{rng.randrange(0, 10)}",
            f"I have two kids and three dogs", f"the last four digits are {rng.randrange(1000, 9999)}",
            f"card ending in {rng.randrange(1000, 9999)}", f"my PIN is not something I'll say",
        ]), note="quantities, last four, small numbers: kept"))  # fmt: skip
    return out


HAND = [
    line("four one one one, um, one one one one, you know, one one one one, sorry, one one one one",
         expect=[exp("CARD", "four one one one, um, one one one one, you know, one one one one, sorry, one one one one")],
         note="issue: card with fillers"),
    line("five five double zero, double zero five five, five five five five, five five five nine",
         expect=[exp("CARD", "five five double zero, double zero five five, five five five five, five five five nine")],
         note="issue: double"),
    line("it's three seven eight two, eight two two four six three, one triple zero five",
         expect=[exp("CARD", "three seven eight two, eight two two four six three, one triple zero five")], note="amex with triple"),
    line("CVV 737", expect=[exp("CARD_SECURITY_CODE", "737")], note="issue: CVV"),
    line("seven three seven is the code on the back", expect=[exp("CARD_SECURITY_CODE", "seven three seven")], note="issue: spoken CVV"),
    line("my social is zero seven eight zero five one one two zero", expect=[exp("SSN", "zero seven eight zero five one one two zero")], note="issue: SSN in words"),
    line("SSN 078051120", expect=[exp("SSN", "078051120")], note="issue: SSN without separators"),
    line("4111 1111 1111 1111, expires oh four twenty seven, and the CVV is seven three seven",
         expect=[exp("CARD", "4111 1111 1111 1111"), exp("CARD_EXPIRY", "oh four twenty seven"), exp("CARD_SECURITY_CODE", "seven three seven")],
         note="card, expiry and code in one breath"),
    line("card number 4242 4242 4242 4242 exp 12/29 cvc 123",
         expect=[exp("CARD", "4242 4242 4242 4242"), exp("CARD_EXPIRY", "12/29"), exp("CARD_SECURITY_CODE", "123")], note="typed chat"),
    line("it expires April 2027", expect=[exp("CARD_EXPIRY", "April 2027")], note="issue: expires April 2027"),
    line("forty one eleven, eleven eleven, eleven eleven, eleven eleven",
         expect=[exp("CARD", "forty one eleven, eleven eleven, eleven eleven, eleven eleven")], note="card read as pairs"),
    line("4111 1111 1111 1111 and my order is 1234 5678 9012 3456",
         expect=[exp("CARD", "4111 1111 1111 1111")], note="card then an order number that fails Luhn"),
    line(segments=[("CUSTOMER", "four one one one one one one one"), ("CUSTOMER", "one one one one one one one one")],
         expect=[exp("CARD", "four one one one one one one one"), exp("CARD", "one one one one one one one one", segment=1)],
         note="spoken card over two segments"),
    line(segments=[("AGENT", "can I take the card number?"), ("CUSTOMER", "yeah it's 5555 5555"),
                   ("CUSTOMER", "5555 4444"), ("AGENT", "and the expiry?"), ("CUSTOMER", "oh nine, twenty eight"),
                   ("AGENT", "and the three digits on the back?"), ("CUSTOMER", "uh, four two one")],
         expect=[exp("CARD", "5555 5555", segment=1), exp("CARD", "5555 4444", segment=2),
                 exp("CARD_EXPIRY", "oh nine, twenty eight", segment=4), exp("CARD_SECURITY_CODE", "four two one", segment=6)],
         note="a whole card payment dialogue"),
    line("I'd like to pay two hundred and fifty dollars on the card", note="amount in words: kept"),
    line("the order was 1234567890123456 not the card", note="Luhn-invalid 16 digits: kept"),
    line("my phone is 415-555-0100", expect=[exp("PHONE", "415-555-0100")], note="phone not card"),
    line("my flight is BA 2490 at 10:30 on 12/05", note="flight, time, date: kept"),
    line("the routing number is 021000021 and the account number is 123456789",
         expect=[exp("ROUTING_NUMBER", "021000021"), exp("BANK_ACCOUNT", "123456789")], note="routing and account"),
    line("my email is pat@example.com", expect=[exp("EMAIL", "pat@example.com")], note="email"),
    line("order number 123456789", note="9 digits after 'order number': not an SSN"),
    line("the area 000-12-3456 is never issued", note="invalid SSN area: kept"),
    line("the reference is 912 34 5678", note="9xx area: kept"),
    line("I was born in 1985 and moved in 2019", note="years: kept"),
    line("that'll be 19.99 plus 4.50 shipping", note="prices: kept"),
    line("the card is 6011 1111 1111 1117, expiration 11/26, security code 0429",
         expect=[exp("CARD", "6011 1111 1111 1117"), exp("CARD_EXPIRY", "11/26"), exp("CARD_SECURITY_CODE", "0429")],
         note="discover with 4-digit code"),
    line("amex three seven one four, four nine six three, five three nine eight, four three one, and the four digit code on the front is one two three four",
         expect=[exp("CARD", "three seven one four, four nine six three, five three nine eight, four three one"),
                 exp("CARD_SECURITY_CODE", "one two three four")], note="amex CID"),
    line("four one one one dash one one one one dash one one one one dash one one one one",
         expect=[exp("CARD", "four one one one dash one one one one dash one one one one dash one one one one")],
         note="ASR: separators said as words"),
    line("expires oh four slash twenty seven", expect=[exp("CARD_EXPIRY", "oh four slash twenty seven")], note="slash said"),
    line("my card number is 4111 1111 1111 1111 and my phone is 415 555 0100",
         expect=[exp("CARD", "4111 1111 1111 1111"), exp("PHONE", "415 555 0100")], note="card and phone in one sentence"),
    line("it's 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", expect=[exp("CARD", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1")],
         note="ASR: one digit per token"),
    line("41 11 11 11 11 11 11 11", expect=[exp("CARD", "41 11 11 11 11 11 11 11")], note="ASR: pairs as digits"),
    line("card number four one one one one one one one one one one one one one one one expiry twelve twenty six",
         expect=[exp("CARD", "four one one one one one one one one one one one one one one one"),
                 exp("CARD_EXPIRY", "twelve twenty six")], note="card then expiry, spoken"),
    line("no wait, sorry, it's 5555 5555 5555 4444", expect=[exp("CARD", "5555 5555 5555 4444")], note="correction"),
    line(segments=[("CUSTOMER", "4111 1111 1111 1111"), ("AGENT", "ending 1111, thank you")],
         expect=[exp("CARD", "4111 1111 1111 1111")], note="agent repeats the last four (allowed): kept"),
    line("I've been a customer for 15 years", note="years: kept"),
    line("the invoice total was 4,111.11", note="amount: kept"),
    line("call 1-800-555-0199", expect=[exp("PHONE", "1-800-555-0199")], note="toll-free phone"),
    line("my date of birth is oh four twelve nineteen eighty five", note="date of birth in words: not a card detail"),
    line("it's on page 737 of the manual", note="page number: kept"),
    line("the security code? I don't have the card with me", note="no digits"),
    line("the CVV is oh oh seven", expect=[exp("CARD_SECURITY_CODE", "oh oh seven")], note="code with leading zeros"),
    line("and the code on the back is, um, let me see, four, two, one",
         expect=[exp("CARD_SECURITY_CODE", "four, two, one")], note="code with hesitations"),
    line(segments=[("AGENT", "what's the expiry date?"), ("CUSTOMER", "um, it's the, uh, oh nine"), ("CUSTOMER", "twenty eight")],
         expect=[exp("CARD_EXPIRY", "oh nine", segment=1), exp("CARD_EXPIRY", "twenty eight", segment=2)],
         note="expiry split over segments"),
    line("I paid 45 dollars with card 4012 8888 8888 1881 yesterday", expect=[exp("CARD", "4012 8888 8888 1881")],
         note="amount and card in one sentence"),
    line("we have 2 cards, 1 visa and 1 amex", note="small quantities near card words: kept"),
    line(segments=[("CUSTOMER", "the cvv is 737."), ("AGENT", "One moment please, and the expiry?")],
         expect=[exp("CARD_SECURITY_CODE", "737")], note="'One' starting the next segment is a word, not a digit"),
    line(segments=[("CUSTOMER", "it's 4111 1111 1111 1111."), ("AGENT", "One second, let me check that")],
         expect=[exp("CARD", "4111 1111 1111 1111")], note="'One' after a card in the next segment"),
]  # fmt: skip


def main() -> None:
    rng = random.Random(SEED)
    entries = HAND + generated(rng)
    for entry in entries:  # every expected value is where it says
        texts = [s["text"] for s in entry["segments"]] if "segments" in entry else [entry["text"]]
        for e in entry["expect"]:
            assert e["value"] in texts[e.get("segment", 0)], (e, texts)
    with OUT.open("w") as f:
        for entry in entries:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    print(f"{len(entries)} entries -> {OUT}")


if __name__ == "__main__":
    main()

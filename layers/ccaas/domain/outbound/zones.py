"""US postal geography for calling hours (pure tables): ZIP (a few in full, else the 3-digit prefix) → state →
candidate time zones.

Coarse on purpose: a state that spans zones maps to ALL of them (Florida: Eastern and Central; Texas:
Central and Mountain …), so the most restrictive window applies — never an early or late call, at the
price of a shorter day for part of the state. Territories are included (PR, VI, GU, AS, MP), and the freely
associated states the USPS serves (FM, MH, PW).

A number says where its person may be too: `states_for_number` reads the state of a US (or territory) number's
area code from `AREA_CODE_STATES`, a table built from libphonenumber's geocoding data (the per-prefix
descriptions "San Francisco, CA", "Idaho" that `phonenumbers.geocoder` reads; tests/unit/
test_outbound_outside_findings.py checks the table against the installed phonenumbers). Kept here as a table so
the dialer's checks need neither phonenumbers nor its ~40 MB of geocoding data at their cold start.
"""
from __future__ import annotations

__all__ = ["AREA_CODE_STATES", "STATE_ZONES", "state_for_postal_code", "states_for_number", "states_for_zones",
           "zones_for_state"]

STATE_ZONES: dict[str, tuple[str, ...]] = {
    "AL": ("America/Chicago",), "AK": ("America/Anchorage", "America/Adak"), "AZ": ("America/Phoenix", "America/Denver"),
    "AR": ("America/Chicago",), "CA": ("America/Los_Angeles",), "CO": ("America/Denver",),
    "CT": ("America/New_York",), "DE": ("America/New_York",), "DC": ("America/New_York",),
    "FL": ("America/New_York", "America/Chicago"), "GA": ("America/New_York",), "HI": ("Pacific/Honolulu",),
    "ID": ("America/Boise", "America/Los_Angeles"), "IL": ("America/Chicago",),
    "IN": ("America/Indiana/Indianapolis", "America/Chicago"), "IA": ("America/Chicago",),
    "KS": ("America/Chicago", "America/Denver"), "KY": ("America/New_York", "America/Chicago"),
    "LA": ("America/Chicago",), "ME": ("America/New_York",), "MD": ("America/New_York",), "MA": ("America/New_York",),
    "MI": ("America/Detroit", "America/Menominee"), "MN": ("America/Chicago",), "MS": ("America/Chicago",),
    "MO": ("America/Chicago",), "MT": ("America/Denver",), "NE": ("America/Chicago", "America/Denver"),
    "NV": ("America/Los_Angeles", "America/Denver"), "NH": ("America/New_York",), "NJ": ("America/New_York",),
    "NM": ("America/Denver",), "NY": ("America/New_York",), "NC": ("America/New_York",),
    "ND": ("America/Chicago", "America/Denver"), "OH": ("America/New_York",), "OK": ("America/Chicago",),
    "OR": ("America/Los_Angeles", "America/Boise"), "PA": ("America/New_York",), "RI": ("America/New_York",),
    "SC": ("America/New_York",), "SD": ("America/Chicago", "America/Denver"),
    "TN": ("America/Chicago", "America/New_York"), "TX": ("America/Chicago", "America/Denver"),
    "UT": ("America/Denver",), "VT": ("America/New_York",), "VA": ("America/New_York",),
    "WA": ("America/Los_Angeles",), "WV": ("America/New_York",), "WI": ("America/Chicago",), "WY": ("America/Denver",),
    "PR": ("America/Puerto_Rico",), "VI": ("America/St_Thomas",), "GU": ("Pacific/Guam",),
    "AS": ("Pacific/Pago_Pago",), "MP": ("Pacific/Saipan",),
    "FM": ("Pacific/Chuuk", "Pacific/Pohnpei", "Pacific/Kosrae"), "MH": ("Pacific/Majuro", "Pacific/Kwajalein"),
    "PW": ("Pacific/Palau",),
}

# (first ZIP, last ZIP, state): places that share a 3-digit prefix with a state or territory in another zone,
# looked up before the prefixes (967 is Hawaii but 96799 is American Samoa, UTC-11; 969 is Guam, UTC+10).
_ZIP_EXCEPTIONS: tuple[tuple[int, int, str], ...] = (
    (96799, 96799, "AS"), (96939, 96940, "PW"), (96941, 96944, "FM"), (96950, 96952, "MP"), (96960, 96970, "MH"),
)

# (first prefix, last prefix, state): the USPS sectional-center ranges, coarse (military APO/FPO left out).
_ZIP_RANGES: tuple[tuple[int, int, str], ...] = (
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"), (10, 27, "MA"), (28, 29, "RI"), (30, 38, "NH"),
    (39, 49, "ME"), (50, 54, "VT"), (55, 55, "MA"), (56, 59, "VT"), (60, 69, "CT"), (70, 89, "NJ"),
    (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"), (200, 200, "DC"), (201, 201, "VA"), (202, 205, "DC"),
    (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"), (270, 289, "NC"), (290, 299, "SC"), (300, 319, "GA"),
    (320, 339, "FL"), (341, 349, "FL"), (350, 369, "AL"), (370, 385, "TN"), (386, 397, "MS"), (398, 399, "GA"),
    (400, 427, "KY"), (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"), (500, 528, "IA"), (530, 549, "WI"),
    (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"), (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"),
    (630, 658, "MO"), (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"), (716, 729, "AR"), (730, 732, "OK"),
    (733, 733, "TX"), (734, 749, "OK"), (750, 799, "TX"), (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"),
    (840, 847, "UT"), (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"), (889, 898, "NV"), (900, 961, "CA"),
    (967, 968, "HI"), (969, 969, "GU"), (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
)


def state_for_postal_code(postal_code: str) -> str | None:
    """The US state (or territory) of a 5-digit (or ZIP+4) code: its own ZIP if listed, else its 3-digit prefix;
    None when unknown or malformed."""
    digits = postal_code.strip().split("-")[0]
    if len(digits) != 5 or not digits.isdigit():
        return None
    zip5 = int(digits)
    for first, last, state in _ZIP_EXCEPTIONS:
        if first <= zip5 <= last:
            return state
    prefix = zip5 // 100
    for first, last, state in _ZIP_RANGES:
        if first <= prefix <= last:
            return state
    return None


def zones_for_state(state: str) -> tuple[str, ...]:
    return STATE_ZONES.get(state.upper(), ())


# The area codes (NANP NPAs) of each US state and territory: every state whose exchanges libphonenumber's geocoder
# places in the code (201 is New Jersey's, and one of its exchanges is New York's: both), and the territories' own
# codes (geocoded by country: PR, VI, GU, AS, MP). Toll-free, premium and other non-geographic codes are in no state.
_STATE_AREA_CODES: dict[str, str] = {
    "AK": "907", "AL": "205 251 256 334 659 938", "AR": "327 479 501 870", "AS": "684", "AZ": "480 520 602 623 928",
    "CA": "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 "
          "714 738 747 760 805 818 820 831 840 858 909 916 925 949 951",
    "CO": "303 719 720 748 970 983", "CT": "203 475 860 959", "DC": "202 771", "DE": "302",
    "FL": "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954",
    "GA": "229 404 470 478 678 706 762 770 912 943", "GU": "671", "HI": "808", "IA": "319 515 563 641 712",
    "ID": "208 986", "IL": "217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 872",
    "IN": "219 260 317 463 574 765 812 930", "KS": "316 620 785 913", "KY": "270 364 502 606 859",
    "LA": "225 318 337 504 985", "MA": "339 351 413 508 617 774 781 857 978", "MD": "227 240 301 410 443 667",
    "ME": "207", "MI": "231 248 269 313 517 586 616 734 810 906 947 989", "MN": "218 320 507 612 651 763 952",
    "MO": "235 314 417 557 573 636 660 816 975", "MP": "670", "MS": "228 601 662 769", "MT": "406",
    "NC": "252 336 472 704 743 828 910 919 980 984", "ND": "701", "NE": "308 402 531", "NH": "603",
    "NJ": "201 551 609 640 732 848 856 862 908 973", "NM": "505 575", "NV": "702 725 775",
    "NY": "201 212 315 329 332 347 363 516 518 585 607 631 646 680 716 718 838 845 914 917 929 934",
    "OH": "216 220 234 283 326 330 380 419 440 513 567 614 740 937", "OK": "405 539 572 580 918",
    "OR": "458 503 541 971", "PA": "215 223 267 272 412 445 484 570 582 610 717 724 814 835 878", "PR": "787 939",
    "RI": "401", "SC": "803 821 839 843 854 864", "SD": "605", "TN": "423 615 629 731 865 901 931",
    "TX": "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 915 936 940 "
          "945 956 972 979",
    "UT": "385 435 801", "VA": "276 434 540 571 686 703 757 804 826 948", "VI": "340", "VT": "802",
    "WA": "206 253 360 425 509 564", "WI": "262 274 353 414 534 608 715 920", "WV": "304 681", "WY": "307",
}
AREA_CODE_STATES: dict[str, tuple[str, ...]] = {}
for _state, _codes in _STATE_AREA_CODES.items():
    for _code in _codes.split():
        AREA_CODE_STATES[_code] = (*AREA_CODE_STATES.get(_code, ()), _state)


def states_for_number(number: str) -> tuple[str, ...]:
    """The US states (or territories) an E.164 number's area code is in (`+14155550171`: CA); () for a number of
    another country, a non-geographic code (toll-free …) or a code the table does not know."""
    if len(number) != 12 or not number.startswith("+1"):
        return ()
    return AREA_CODE_STATES.get(number[2:5], ())


def states_for_zones(zones: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Every state one of `zones` is a zone of (America/Los_Angeles: CA ID NV OR WA), in code order."""
    wanted = set(zones)
    return tuple(sorted(state for state, names in STATE_ZONES.items() if wanted.intersection(names)))

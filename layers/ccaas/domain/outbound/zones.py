"""US postal geography for calling hours (pure tables): ZIP (a few in full, else the 3-digit prefix) → state →
candidate time zones.

Coarse on purpose: a state that spans zones maps to ALL of them (Florida: Eastern and Central; Texas:
Central and Mountain …), so the most restrictive window applies — never an early or late call, at the
price of a shorter day for part of the state. Territories are included (PR, VI, GU, AS, MP), and the freely
associated states the USPS serves (FM, MH, PW).
"""
from __future__ import annotations

__all__ = ["STATE_ZONES", "state_for_postal_code", "zones_for_state"]

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

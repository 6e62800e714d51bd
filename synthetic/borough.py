"""Synthetic borough generator: extracts for one as-of date, and their truth.

Seeded and deterministic. Households get a target profile (which criteria they meet);
events are generated to meet exactly those, with decoys that must not count (an
adult's conviction, a warning letter, a claim that ended, an indicator 13 months old,
two suspensions). ``noise`` adds what real extracts carry: nicknames, typos, day/month
swaps, missing postcodes, addresses written other ways, movers with an old address on
older records, UK dates, a Windows-1252 file and rows that must be rejected.
With ``noise=0`` identifiers and names agree exactly across sources.

``address_noise`` adds the keying errors UK addresses carry between agencies, at about
the rates seen in council data: a one-character postcode typo or two characters
transposed (2% of records), a postcode left out (5%), a flat written a second way ("11/157
Park Rd", "157 Flat 11 Park Road", "Apartment 11, 157 Park Road"; a third of flats), the
town left out (10%) and a house name before the number (1%). Its draws come from a random
stream of their own, so the rest of a borough is the same with or without it.

Truth, in ``<out>/truth/``: ``records.csv`` (extract, source_row → person and the UPRN
of the home its address describes), ``persons.csv`` (person → household) and
``households.csv`` (the flags it meets).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import math
import os
import random
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from stdnum.gb import upn as stdnum_upn

from pipelines.extract import sniff

FORENAMES_M = ["William", "James", "Robert", "Thomas", "Daniel", "Joseph", "Michael", "David",
               "Charles", "Richard", "Edward", "Samuel", "Matthew", "Anthony", "Andrew", "Peter",
               "Oliver", "Harry", "Jack", "George", "Noah", "Leo", "Oscar", "Alfie", "Jacob",
               "Henry", "Freddie", "Archie", "Theo", "Arthur", "Charlie", "Ethan", "Isaac",
               "Lucas", "Mason", "Logan", "Dylan", "Riley", "Finley", "Joshua", "Benjamin",
               "Alexander", "Christopher", "Jonathan", "Nicholas", "Patrick", "Stephen",
               "Timothy", "Kevin", "Gary", "Mark", "Paul", "Lee", "Craig", "Dean", "Wayne",
               "Mohammed", "Ibrahim", "Yusuf", "Omar", "Hamza", "Kacper", "Jakub", "Aaron",
               "Callum", "Connor", "Kieran", "Liam", "Owen", "Rhys", "Tyler", "Reece"]
FORENAMES_F = ["Elizabeth", "Margaret", "Catherine", "Jennifer", "Susan", "Rebecca", "Victoria",
               "Jessica", "Abigail", "Samantha", "Olivia", "Amelia", "Isla", "Ava", "Mia",
               "Emily", "Grace", "Sophie", "Chloe", "Lily", "Zoë", "Niamh", "Siobhan", "Aoife",
               "Charlotte", "Ella", "Poppy", "Freya", "Evie", "Ruby", "Daisy", "Alice",
               "Florence", "Isabella", "Sienna", "Phoebe", "Hannah", "Lucy", "Megan", "Laura",
               "Sarah", "Emma", "Claire", "Nicola", "Joanne", "Kelly", "Lisa", "Michelle",
               "Donna", "Tracey", "Amy", "Natalie", "Gemma", "Kayleigh", "Leanne", "Stacey",
               "Aisha", "Fatima", "Maryam", "Zainab", "Amira", "Zuzanna", "Julia", "Maja",
               "Bethany", "Courtney", "Jade", "Holly", "Paige", "Shannon", "Caitlin", "Ellie"]
NICKNAMES = {"William": "Bill", "James": "Jim", "Robert": "Bob", "Thomas": "Tom",
             "Daniel": "Dan", "Joseph": "Joe", "Michael": "Mike", "David": "Dave",
             "Charles": "Charlie", "Richard": "Rick", "Edward": "Ted", "Samuel": "Sam",
             "Elizabeth": "Liz", "Margaret": "Maggie", "Catherine": "Kate", "Jennifer": "Jenny",
             "Susan": "Sue", "Rebecca": "Becky", "Victoria": "Vicky", "Jessica": "Jess",
             "Abigail": "Abby", "Samantha": "Sam", "Matthew": "Matt", "Anthony": "Tony",
             "Andrew": "Andy", "Peter": "Pete", "Alexander": "Alex", "Benjamin": "Ben",
             "Christopher": "Chris", "Jonathan": "Jon", "Nicholas": "Nick", "Stephen": "Steve",
             "Timothy": "Tim", "Joshua": "Josh", "Frederick": "Fred", "Isabella": "Bella",
             "Charlotte": "Lottie", "Hannah": "Anna", "Nicola": "Nicky", "Florence": "Flo"}
_SURNAMES_COMMON = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King",
    "Baker", "Harrison", "Morgan", "Allen", "O'Brien", "Smith-Jones", "Kowalski", "Nowak",
    "Ahmed", "Khan", "Ali", "Begum", "Murphy", "Kelly", "Scott", "Young", "Mitchell",
    "Watson", "Phillips", "Campbell", "Parker", "Bennett", "Cook", "Shaw", "Richardson",
    "Collins", "Bailey", "Bell", "Carter", "Hussain", "Singh", "Kaur", "Mahmood", "Rahman",
    "Wiśniewski", "McDonald", "MacLeod", "O'Connor", "Fitzgerald", "Lloyd-Webb",
    "Dunn", "Marshall", "Palmer", "Fox", "Mills", "Knight", "Stevens", "Lawrence", "Owen"]
# Rarer surnames, made from English place-name parts: a long tail as in a real borough.
_PARTS = (["Ash", "Brad", "Brom", "Cal", "Chat", "Dar", "Elling", "Fair", "Glad", "Hart",
           "Hather", "Kirk", "Lang", "Mar", "Nor", "Pem", "Rad", "Shel", "Stan", "Thorn",
           "Wat", "Whit", "Win", "Yar", "Oak", "Cross", "Holl", "Mor", "Sut", "Brook"],
          ["ford", "ley", "ton", "well", "by", "ham", "field", "wood", "more", "worth", "dale",
           "stone", "croft", "hurst", "bury", "wick", "combe", "land", "shaw", "thwaite"])
SURNAMES = _SURNAMES_COMMON + [a + b for a in _PARTS[0] for b in _PARTS[1]]
# Zipf-like weights: common surnames are much more common than the tail.
SURNAME_WEIGHTS = [1 / (rank + 5) for rank in range(len(SURNAMES))]
STREETS = [("Church", "Road"), ("Station", "Road"), ("Victoria", "Street"), ("Park", "Avenue"),
           ("Mill", "Lane"), ("Queens", "Drive"), ("Oak", "Close"), ("Beech", "Grove"),
           ("Cedar", "Crescent"), ("Elm", "Gardens"), ("Market", "Street"), ("Chapel", "Lane"),
           ("Albert", "Terrace"), ("Windsor", "Court"), ("Highfield", "Road"),
           ("Grange", "Road"), ("Manor", "Way"), ("Priory", "Place"), ("Bridge", "Street"),
           ("King", "Street")]
# A town's streets: the twenty above, then names made from the same place-name parts, so
# a street name is one street within its town (1,820 names; a town has 1,800 streets of
# 60 numbers) and recurs from town to town, as Church Road does.
STREET_NAMES = STREETS + [(a + b, kind) for a in _PARTS[0] for b in _PARTS[1]
                          for kind in ("Road", "Street", "Close")]
ABBREVIATIONS = {"Road": "Rd", "Street": "St", "Avenue": "Ave", "Lane": "Ln", "Drive": "Dr",
                 "Close": "Cl", "Grove": "Gro", "Crescent": "Cres", "Gardens": "Gdns",
                 "Terrace": "Terr", "Court": "Ct", "Way": "Wy", "Place": "Pl"}
# Accented forms that Windows-1252 can write and standardisation folds back.
ACCENTED = {"e": "ë", "a": "á", "o": "ö", "i": "í", "u": "ü"}
AREAS = ["CH", "L", "WA", "M", "PR", "BB", "BL", "OL"]
WARDS = ["Bidston", "Claughton", "Oxton", "Prenton", "Seacombe", "Rock Ferry"]
# A town to each pass over the postcode areas: a borough of fewer than about 80,000
# households is Birkenhead alone; 1,000,000 households span thirteen towns, and a street
# name is one street within its town up to about 2,000,000 households.
TOWNS = {"CH": ["Birkenhead", "Wallasey", "Bebington"], "L": ["Liverpool", "Bootle", "Huyton"],
         "WA": ["Warrington", "Widnes", "Runcorn"], "M": ["Manchester", "Salford", "Stockport"],
         "PR": ["Preston", "Chorley", "Leyland"], "BB": ["Blackburn", "Darwen", "Accrington"],
         "BL": ["Bolton", "Farnworth", "Horwich"], "OL": ["Oldham", "Rochdale", "Ashton"]}
HOUSE_NAMES = ["Rose Cottage", "The Willows", "Ivy House", "Fern Lea", "Oak Lodge",
               "Holly Bank", "The Laurels", "Brookside"]
# Characters a postcode typo puts in: a letter for a letter, a digit for a digit.
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
TERM_ENDS = {"autumn": (12, 31, 0), "spring": (3, 31, 1), "summer": (7, 31, 1)}
TERM_STARTS = {"autumn": (9, 1, 0), "spring": (1, 1, 1), "summer": (4, 1, 1)}


# NINO prefixes the format allows (letters D, F, I, Q, U, V and O never; seven pairs
# are not issued).
NINO_PREFIXES = [a + b for a in "ABCEGHJKLMNPRSTWXYZ" for b in "ABCEGHJKLMNPRSTWXYZ"
                 if a + b not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}]


def scrambled(number: int, digits: int) -> int:
    """``number`` below 10^digits mapped one-to-one onto another below 10^digits
    (multiplying by a number prime to 10 permutes the residues)."""
    if number >= 10**digits:
        raise ValueError(f"{number} needs more than {digits} digits")
    return number * 7_654_321 % 10**digits


def serial_of(p: Person) -> int:
    return int(p.person_id[1:])


@dataclass
class Property:
    uprn: str
    flat: str | None
    number: int
    street: tuple[str, str]
    town: str
    postcode: str
    ward: str
    lsoa: str
    imd_decile: int
    easting: int
    northing: int

    def address(self, style: int = 0) -> str:
        name, kind = self.street
        if style == 1:
            kind = ABBREVIATIONS.get(kind, kind)
        if self.flat is None:
            text = f"{self.number} {name} {kind}, {self.town}"
        elif style == 2:
            text = f"{self.flat}/{self.number} {name} {kind}"
        else:
            text = f"Flat {self.flat}, {self.number} {name} {kind}, {self.town}"
        return text.upper() if style == 3 else text


@dataclass
class Person:
    person_id: str
    household_id: str
    forename: str
    surname: str
    dob: dt.date
    gender: str
    upn: str | None = None
    nino: str | None = None
    police_ref: str | None = None
    asb_ref: str | None = None
    old_home: Property | None = None
    home: Property | None = None
    former_surname: str | None = None  # a surname some sources still hold (marriage)


@dataclass
class Household:
    household_id: str
    home: Property
    members: list[Person] = field(default_factory=list)
    flags: dict[str, bool] = field(default_factory=dict)
    crime_mode: str = ""          # offence, asb or housing: how crime/ASB was met
    crime_person: str = ""        # whose offence or intervention it was
    work_person: str = ""         # the adult on an out-of-work benefit
    work_benefit: str = ""


class Generator:
    """Builds one borough; ``write`` puts the extracts and truth in a folder."""

    def __init__(self, households: int, seed: int, as_of: dt.date, noise: float,
                 first: int = 0, address_noise: float = 0.0) -> None:
        self.rng = random.Random(seed)
        # a stream of its own: address noise changes nothing else in the borough
        self.address_rng = random.Random(seed * 7919 + 1)
        self.address_noise = address_noise
        self.first = first  # index of this chunk's first household in the whole borough
        self.as_of = as_of
        self.noise = noise
        self.n_households = households
        self.rows: dict[str, list[dict]] = {name: [] for name in (
            "school_attendance", "school_exclusions", "police_offences", "asb", "benefits",
            "local_indicators", "gazetteer")}
        self.truth_records: list[tuple[str, str]] = []  # (extract, person_id) in row order
        self.record_truth: dict[str, list[str | None]] = {name: [] for name in self.rows}
        # the UPRN of the home each row's address describes, in row order
        self.address_truth: dict[str, list[str | None]] = {name: [] for name in self.rows}
        self.households: list[Household] = []
        self.properties: list[Property] = []
        self._serial = first * 20  # person ids stay unique across chunks

    # -- helpers -------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def noisy(self, p: float) -> bool:
        return self.noise > 0 and self.rng.random() < p * self.noise

    def serial(self) -> int:
        self._serial += 1
        return self._serial

    def days_before(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=self.rng.randint(low, high))

    def dob_for_age(self, low: int, high: int) -> dt.date:
        age_days = self.rng.randint(low * 365 + 1, high * 365 + 300)
        return self.as_of - dt.timedelta(days=age_days)

    # Identifiers are built from the person's serial number (unique over all chunks), its
    # low digits scrambled: they look random but two people never share one, at any size
    # (drawn at random, NINOs and police references collided by the thousand at a million
    # households and made different people one).
    def upn(self, p: Person) -> str:
        body = f"{self.rng.choice(['801', '802', '803', '344'])}" \
               f"{scrambled(serial_of(p), 9):09d}"
        return stdnum_upn.calc_check_digit(body) + body

    @staticmethod
    def nino(p: Person) -> str:
        high, low = divmod(serial_of(p), 10**6)
        prefix = NINO_PREFIXES[high // 4 % len(NINO_PREFIXES)]
        return f"{prefix}{scrambled(low, 6):06d}{'ABCD'[high % 4]}"

    @staticmethod
    def police_ref(p: Person, letter: str) -> str:
        high, low = divmod(serial_of(p), 10**6)
        return f"{high:02d}/{scrambled(low, 6):06d}{letter}"

    @staticmethod
    def asb_ref(p: Person) -> str:
        return f"ASB{scrambled(serial_of(p), 9):09d}"

    def age(self, p: Person, on: dt.date | None = None) -> int:
        on = on or self.as_of
        return on.year - p.dob.year - ((on.month, on.day) < (p.dob.month, p.dob.day))

    # -- borough -------------------------------------------------------------------
    def build_properties(self) -> None:
        """Buildings of 60 to a street; every fifth has three flats. About ten properties
        share a postcode unit; addresses are unique over millions of households, and a
        street name within its town (a town is 1,800 streets of one postcode area)."""
        # chunk c owns buildings [c × (1.3 × CHUNK + 10), …): chunks never share one
        start = self.first // CHUNK * (int(CHUNK * 1.3) + 10)
        for i in range(start, start + int(self.n_households * 1.3) + 10):
            k, number = divmod(i, 60)
            number += 1
            street_no = k % len(STREETS)
            area = AREAS[k // 1800 % len(AREAS)]
            towns = TOWNS[area]
            postcode = f"{area}{10 + k // 20 % 90} {1 + k // 14400 % 9}" \
                       f"{'ABDEFGHJLNPQRSTUWXYZ'[street_no]}{'ABDEFGHJ'[number // 8 % 8]}"
            flats = [None] if number % 5 else ["1", "2", "3"]
            for n, flat in enumerate(flats):
                self.properties.append(Property(
                    str(100000000 + i * 4 + n), flat, number,
                    STREET_NAMES[k % len(STREET_NAMES)], towns[k // 14400 % len(towns)],
                    postcode,
                    WARDS[k % len(WARDS)], f"E01{k // 3 % 1000000:06d}", 1 + (k * 3) % 10,
                    *grid_point(k, number)))

    def build_households(self) -> None:
        homes = self.rng.sample(self.properties, self.n_households)
        for h, home in enumerate(homes):
            hh = Household(f"H{self.first + h + 1:07d}", home)
            surname = self.rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
            n_adults = self.rng.choice([1, 1, 2, 2, 2])
            n_children = self.rng.choice([0, 1, 1, 2, 2, 3, 4])
            for a in range(n_adults):
                gender = "F" if a == 0 else "M"
                names = FORENAMES_F if gender == "F" else FORENAMES_M
                adult = Person(f"T{self.serial():09d}", hh.household_id,
                               self.rng.choice(names), surname, self.dob_for_age(22, 55), gender,
                               home=home)
                adult.nino = self.nino(adult)
                if self.noisy(0.2):
                    adult.former_surname = self.rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
                hh.members.append(adult)
            for _ in range(n_children):
                gender = self.rng.choice("MF")
                names = FORENAMES_F if gender == "F" else FORENAMES_M
                child = Person(f"T{self.serial():09d}", hh.household_id, self.rng.choice(names),
                               surname, self.dob_for_age(3, 17), gender, home=home)
                if 5 <= self.age(child) <= 16:
                    child.upn = self.upn(child)
                hh.members.append(child)
            if self.noise and self.chance(0.15):  # the family moved in the last year
                old_home = self.rng.choice(self.properties)
                for member in hh.members:
                    member.old_home = old_home
            self.households.append(hh)

    # -- records -------------------------------------------------------------------
    def person_columns(self, p: Person, old: bool = False) -> dict:
        """The person as one source writes them, with the disagreement between sources
        that linked UK administrative data show: about 12% of records differ from the
        truth in forename and 18% in surname, plus date-of-birth errors."""
        home = p.old_home if old and p.old_home else p.home
        forename, surname, dob = p.forename, p.surname, p.dob
        # forename: nickname, typo, or forename and surname the wrong way round
        roll = self.rng.random() / max(self.noise, 1e-9)
        if roll < 0.05 and forename in NICKNAMES:
            forename = NICKNAMES[forename]
        elif roll < 0.10:
            forename = self.typo(forename)
        elif roll < 0.11:
            forename, surname = surname, forename
        elif roll < 0.13:
            forename = forename.upper()
        # surname: former surname, typo, or one half of a double-barrelled name
        roll = self.rng.random() / max(self.noise, 1e-9)
        if roll < 0.07 and p.former_surname:
            surname = p.former_surname
        elif roll < 0.15:
            surname = self.typo(surname)
        elif roll < 0.18 and "-" in surname:
            surname = self.rng.choice(surname.split("-"))
        # date of birth: day and month swapped, one digit wrong
        roll = self.rng.random() / max(self.noise, 1e-9)
        if roll < 0.02 and dob.day <= 12 and dob.day != dob.month:
            dob = dt.date(dob.year, dob.day, dob.month)
        elif roll < 0.03:
            dob = self.digit_slip(dob)
        style = self.rng.choice([0, 1, 2, 3]) if self.noise else 0
        postcode = home.postcode
        if self.noisy(0.05):
            postcode = ""
        elif self.noisy(0.1):
            postcode = postcode.replace(" ", "").lower()
        address, postcode = self.written_address(home, home.address(style), postcode)
        return {"forename": forename, "surname": surname, "date_of_birth": self.date(dob),
                "gender": p.gender, "address": address, "postcode": postcode,
                HOME_UPRN: home.uprn}

    def address_slip(self, p: float) -> bool:
        return self.address_noise > 0 and self.address_rng.random() < p * self.address_noise

    def written_address(self, home: Property, address: str, postcode: str
                        ) -> tuple[str, str]:
        """``address`` and ``postcode`` with the address keying errors (module docstring)."""
        rng = self.address_rng
        if home.flat is not None and self.address_slip(1 / 3):
            street = f"{home.number} {home.street[0]} {home.street[1]}"
            address = rng.choice([
                f"{home.flat}/{home.number} {home.street[0]} "
                f"{ABBREVIATIONS.get(home.street[1], home.street[1])}",
                f"{home.number} Flat {home.flat} {home.street[0]} {home.street[1]}",
                f"Apartment {home.flat}, {street}, {home.town}",
                f"Flat {home.flat} {street} {home.town}"])
        elif home.flat is None and self.address_slip(0.01):
            address = f"{rng.choice(HOUSE_NAMES)}, {address}"
        if self.address_slip(0.1):
            address = address.replace(f", {home.town}", "").replace(f" {home.town}", "")
        if postcode and self.address_slip(0.05):
            postcode = ""
        elif postcode and self.address_slip(0.02):
            postcode = postcode_typo(postcode, rng)
        return address, postcode

    def typo(self, name: str) -> str:
        """One keying slip: a letter changed, dropped, doubled or two swapped (never the
        first letter, which people rarely get wrong)."""
        if len(name) < 3:
            return name
        i = self.rng.randint(1, len(name) - 2)
        kind = self.rng.choice(["change", "drop", "double", "swap"])
        if kind == "change":
            return name[:i] + self.rng.choice("aeiounrst") + name[i + 1:]
        if kind == "drop":
            return name[:i] + name[i + 1:]
        if kind == "double":
            return name[:i] + name[i] + name[i:]
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]

    def digit_slip(self, dob: dt.date) -> dt.date:
        """A date of birth with one digit of the day or the year keyed wrong."""
        for _ in range(10):
            if self.rng.random() < 0.5:
                day = dob.day + self.rng.choice([-10, -1, 1, 10])
                if 1 <= day <= 28:
                    return dob.replace(day=day)
            else:
                year = dob.year + self.rng.choice([-1, 1, -10, 10])
                if year < self.as_of.year and not (dob.month == 2 and dob.day == 29):
                    return dob.replace(year=year)
        return dob

    def date(self, d: dt.date | None) -> str:
        if d is None:
            return ""
        return d.strftime("%d/%m/%Y") if self.noisy(0.3) else d.isoformat()

    def add(self, extract: str, person: Person | None, row: dict) -> None:
        self.address_truth[extract].append(row.pop(HOME_UPRN, None))
        self.rows[extract].append(row)
        self.record_truth[extract].append(person.person_id if person else None)

    # -- events per criterion -------------------------------------------------------
    def last_terms(self, n: int) -> list[tuple[str, str, dt.date, dt.date]]:
        """The n newest complete terms at as-of, newest first: (year, term, start, end)."""
        terms = []
        for first_year in range(self.as_of.year - 3, self.as_of.year + 1):
            for term, (m, d, off) in TERM_ENDS.items():
                end = dt.date(first_year + off, m, d)
                sm, sd, soff = TERM_STARTS[term]
                start = dt.date(first_year + soff, sm, sd)
                if end <= self.as_of:
                    terms.append((f"{first_year}/{(first_year + 1) % 100:02d}", term, start, end))
        return sorted(terms, key=lambda t: t[3], reverse=True)[:n]

    def attendance(self, child: Person, unauthorised_rate: float, provision: str) -> None:
        for n, (year, term, _, _) in enumerate(self.last_terms(4)):
            possible = self.rng.randint(110, 140)
            unauth = round(possible * unauthorised_rate)
            auth = min(self.rng.randint(0, 10), possible - unauth)
            self.add("school_attendance", child, {
                # a family that moved shows its old address in the oldest terms
                **self.person_columns(child, old=n >= 2), "upn": child.upn,
                "school_urn": "123456",
                "academic_year": year, "term": term.capitalize() if self.noisy(0.2) else term,
                "sessions_possible": possible, "sessions_authorised_absence": auth,
                "sessions_unauthorised_absence": unauth,
                "provision": provision})

    def exclusion(self, child: Person, category: str, start: dt.date) -> None:
        self.add("school_exclusions", child, {
            "upn": child.upn, "school_urn": "123456",
            "category": "fixed_term" if category == "suspension" and self.noisy(0.3) else category,
            "start_date": self.date(start), "sessions": self.rng.randint(1, 10)})

    def education(self, hh: Household, meets: bool) -> bool:
        pupils = [p for p in hh.members if p.upn]
        if not pupils:
            return False
        window_start = self.last_terms(3)[-1][2]
        window_days = (self.as_of - window_start).days
        mode = self.rng.choice(["absence", "absence", "suspensions", "permanent", "pru"])
        target = self.rng.choice(pupils) if meets else None
        for child in pupils:
            hit = child is target
            rate = self.rng.uniform(0.17, 0.35) if hit and mode == "absence" else \
                self.rng.uniform(0.0, 0.09)
            provision = self.rng.choice(["pru", "alternative_provision"]) \
                if hit and mode == "pru" else self.rng.choice(["mainstream", ""])
            self.attendance(child, rate, provision)
            if hit and mode == "suspensions":
                for _ in range(3):
                    self.exclusion(child, "suspension",
                                   self.as_of - dt.timedelta(days=self.rng.randint(0, window_days)))
            elif hit and mode == "permanent":
                self.exclusion(child, "permanent",
                               self.as_of - dt.timedelta(days=self.rng.randint(0, window_days)))
            elif self.chance(0.15):  # decoy: two suspensions are not three
                for _ in range(2):
                    self.exclusion(child, "suspension",
                                   self.as_of - dt.timedelta(days=self.rng.randint(0, window_days)))
        return meets

    def crime_asb(self, hh: Household, meets: bool) -> bool:
        youths = [p for p in hh.members if 11 <= self.age(p) <= 17]
        adults = [p for p in hh.members if self.age(p) >= 18]
        mode = self.rng.choice(["offence", "asb", "housing"]) if youths else \
            self.rng.choice(["asb", "housing"])
        if meets:
            hh.crime_mode = mode
        if meets and mode == "offence":
            youth = self.rng.choice(youths)
            hh.crime_person = youth.person_id
            youth.police_ref = youth.police_ref or self.police_ref(youth, "A")
            disposal = self.days_before(0, 300)
            self.add("police_offences", youth, {
                **self.person_columns(youth), "police_ref": youth.police_ref,
                "offence_date": self.date(disposal - dt.timedelta(days=self.rng.randint(5, 40))),
                "disposal_date": self.date(disposal),
                "disposal": self.rng.choice(["conviction", "caution", "youth_caution",
                                             "youth_conditional_caution"])})
        elif meets:
            person = self.rng.choice(hh.members)
            hh.crime_person = person.person_id
            kind = self.rng.choice(["asbo", "cbo", "asb_injunction", "abc"]) if mode == "asb" \
                else self.rng.choice(["nosp_asb", "housing_injunction", "demotion_order"])
            self.asb_record(person, "intervention", kind, self.days_before(0, 330))
        # decoys that must not count
        if adults and self.chance(0.2):
            adult = self.rng.choice(adults)
            adult.police_ref = adult.police_ref or self.police_ref(adult, "B")
            disposal = self.days_before(10, 300)
            self.add("police_offences", adult, {
                **self.person_columns(adult), "police_ref": adult.police_ref,
                "offence_date": self.date(disposal - dt.timedelta(days=20)),
                "disposal_date": self.date(disposal), "disposal": "conviction"})
        if self.chance(0.15):
            person = self.rng.choice(hh.members)
            self.asb_record(person, "intervention", "warning_letter", self.days_before(0, 300))
        if self.chance(0.2):
            person = self.rng.choice(hh.members)
            self.asb_record(person, "incident", "noise nuisance", self.days_before(0, 300))
        if youths and self.chance(0.1):
            youth = self.rng.choice(youths)
            youth.police_ref = youth.police_ref or self.police_ref(youth, "C")
            disposal = self.days_before(380, 500)
            self.add("police_offences", youth, {
                **self.person_columns(youth, old=True), "police_ref": youth.police_ref,
                "offence_date": self.date(disposal - dt.timedelta(days=10)),
                "disposal_date": self.date(disposal), "disposal": "caution"})
        return meets

    def asb_record(self, person: Person, record_type: str, kind: str, when: dt.date) -> None:
        person.asb_ref = person.asb_ref or self.asb_ref(person)
        self.add("asb", person, {**self.person_columns(person), "asb_ref": person.asb_ref,
                                 "record_type": record_type, "date": self.date(when),
                                 "type": kind})

    def work(self, hh: Household, meets: bool) -> bool:
        adults = [p for p in hh.members if self.age(p) >= 18]
        if meets:
            adult = self.rng.choice(adults)
            hh.work_person = adult.person_id
            hh.work_benefit = self.rng.choice(["jsa", "esa", "ib", "is", "sda", "ca"])
            self.claim(adult, hh.work_benefit, self.days_before(30, 900), None)
        for adult in adults:
            if self.chance(0.2):  # decoys: not out-of-work, or ended before as-of
                self.claim(adult, self.rng.choice(["pip", "hb", "ctr", "dla"]),
                           self.days_before(30, 900), None)
            if self.chance(0.1):
                start = self.days_before(400, 900)
                self.claim(adult, "jsa", start, self.days_before(2, 200))
        return meets

    def claim(self, adult: Person, benefit: str, start: dt.date, end: dt.date | None) -> None:
        self.add("benefits", adult, {**self.person_columns(adult), "nino": adult.nino,
                                     "benefit": benefit, "claim_start": self.date(start),
                                     "claim_end": self.date(end)})

    def local(self, hh: Household, meets: bool) -> bool:
        person = self.rng.choice(hh.members)
        if meets:
            self.indicator(person, self.rng.choice(["domestic_abuse", "substance_misuse",
                                                    "child_protection_plan", "child_in_need",
                                                    "mental_health", "neet"]),
                           self.days_before(0, 330))
        elif self.chance(0.15):  # decoys: too old, or not in the filter
            self.indicator(person, "domestic_abuse", self.days_before(370, 600))
        elif self.chance(0.1):
            self.indicator(person, "missing_education", self.days_before(0, 300))
        return meets

    def indicator(self, person: Person, code: str, when: dt.date) -> None:
        self.add("local_indicators", person, {
            **self.person_columns(person), "upn": person.upn or "", "nino": person.nino or "",
            "police_ref": "", "asb_ref": "", "source_ref": f"LI{self.serial():07d}",
            "indicator": code, "recorded_date": self.date(when)})

    # -- whole borough -------------------------------------------------------------
    def build(self) -> None:
        self.build_properties()
        self.build_households()
        for hh in self.households:
            has_pupils = any(p.upn for p in hh.members)
            # about a quarter of households have several problems, as in a real borough
            p = 0.65 if self.chance(0.25) else 0.12
            hh.flags = {
                "crime_asb": self.crime_asb(hh, self.chance(p)),
                "education": self.education(hh, has_pupils and self.chance(p + 0.1)),
                "work": self.work(hh, self.chance(p + 0.1)),
                "local_filter": self.local(hh, self.chance(p)),
            }
            national = sum(hh.flags[c] for c in ("crime_asb", "education", "work"))
            hh.flags["qualifies"] = national == 3 or (national >= 2 and hh.flags["local_filter"])
        for prop in self.properties:
            self.rows["gazetteer"].append({
                "uprn": prop.uprn, "address": prop.address(), "postcode": prop.postcode,
                "ward": prop.ward, "lsoa": prop.lsoa, "imd_decile": prop.imd_decile,
                "easting": prop.easting, "northing": prop.northing})
            self.record_truth["gazetteer"].append(None)
            self.address_truth["gazetteer"].append(prop.uprn)
        if self.noise and self.first == 0:
            self.add_bad_rows()
            self.accent_first_indicator()

    def accent_first_indicator(self) -> None:
        """The Windows-1252 extract always holds an accented letter (the council's system
        writing "Zoe" as "Zoë"), so it is a file only that encoding reads, whatever the
        names drawn; standardisation folds the accent, so the person is unchanged."""
        rows = self.rows["local_indicators"]
        if rows:
            forename = rows[0]["forename"]
            vowel = next((c for c in forename if c in ACCENTED), None)
            if vowel:
                rows[0]["forename"] = forename.replace(vowel, ACCENTED[vowel], 1)

    def add_bad_rows(self) -> None:
        """Rows a real extract carries that must be rejected (copies with a broken field)."""
        breakers = [("benefits", "claim_start", "31/02/2025"), ("benefits", "nino", "QQ123456Z"),
                    ("police_offences", "disposal", "unknown"),
                    ("school_attendance", "sessions_possible", "-4"),
                    ("asb", "asb_ref", ""), ("local_indicators", "recorded_date", "2025-13-01")]
        good = {extract: list(rows) for extract, rows in self.rows.items()}
        for extract, column, value in breakers:
            if good[extract]:  # a copy of a good row, so each planted row has one fault
                row = dict(self.rng.choice(good[extract]), **{column: value})
                self.rows[extract].append(row)
                self.record_truth[extract].append(None)
                self.address_truth[extract].append(None)

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "truth").mkdir(exist_ok=True)
        for extract, rows in self.rows.items():
            order = list(range(len(rows)))
            self.rng.shuffle(order)
            columns = list(rows[0]) if rows else []
            encoding = "cp1252" if self.noise and extract == "local_indicators" else "utf-8"
            with (out / f"{extract}.csv").open("w", newline="", encoding=encoding,
                                               errors="replace") as f:
                writer = csv.writer(f)
                writer.writerow(columns)
                for i in order:
                    writer.writerow([rows[i].get(c, "") for c in columns])
            self.record_truth[extract] = [self.record_truth[extract][i] for i in order]
            self.address_truth[extract] = [self.address_truth[extract][i] for i in order]
        with (out / "truth" / "records.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["extract", "source_row", "person_id", "uprn"])
            for extract, people in self.record_truth.items():
                for row, (person, uprn) in enumerate(
                        zip(people, self.address_truth[extract], strict=True), start=1):
                    writer.writerow([extract, row, person or "", uprn or ""])
        with (out / "truth" / "persons.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["person_id", "household_id"])
            for hh in self.households:
                for p in hh.members:
                    writer.writerow([p.person_id, hh.household_id])
        with (out / "truth" / "households.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            flags = ["crime_asb", "education", "work", "local_filter", "qualifies"]
            writer.writerow(["household_id", "uprn", *flags, "crime_mode", "crime_person_id",
                             "work_person_id", "work_benefit"])
            for hh in self.households:
                writer.writerow([hh.household_id, hh.home.uprn,
                                 *("true" if hh.flags[f] else "false" for f in flags),
                                 hh.crime_mode, hh.crime_person, hh.work_person,
                                 hh.work_benefit])


@functools.cache
def street_slots() -> tuple[tuple[tuple[int, int], ...], ...]:
    """Per ward, the 300 places of its streets in a town (metres from the town's centre),
    nearest the centre first: the ground is cut into plots 400 m wide and 80 m deep, one
    street each, and a plot belongs to the ward whose sixth of the circle holds it; so
    wards are slices of the town, and a small borough's few streets lie close together."""
    plots = sorted(((x * 400, y * 80) for x in range(-13, 14) for y in range(-65, 66)),
                   key=lambda p: (p[0] ** 2 + p[1] ** 2, p))
    slots: list[list[tuple[int, int]]] = [[] for _ in WARDS]
    for x, y in plots:
        ward = int(math.atan2(y, x) % (2 * math.pi) // (2 * math.pi / len(WARDS)))
        if len(slots[ward]) < 300:
            slots[ward].append((x, y))
    return tuple(tuple(s) for s in slots)


def grid_point(street: int, number: int) -> tuple[int, int]:
    """A building's British National Grid point in metres, from its street and number
    alone (no random draw, so the rest of a borough is the same with or without it).
    Each 1,800 streets (a postcode area of one town) are a town 14 km from the last, the
    first about Birkenhead (330000, 388000); a street takes its ward's next place
    (``street_slots``); numbers run 6 m apart along it, odd and even facing each other."""
    town, in_town = divmod(street, 1800)
    x, y = street_slots()[street % len(WARDS)][in_town // len(WARDS)]
    east = 330000 + town % 8 * 14000 + x - 180 + number * 6
    north = 388000 + town // 8 * 14000 + y + number % 2 * 15
    return round(east), round(north)


def postcode_typo(postcode: str, rng: random.Random) -> str:
    """One keying slip in a postcode, its spacing and case kept: a character changed for
    another of its kind (a letter for a letter, a digit for a digit) or two neighbouring
    characters transposed ("CH47 8XG" → "CH47 8XW", "CH41 4LA" → "CH41 4AL")."""
    chars = [i for i, c in enumerate(postcode) if c != " "]
    for _ in range(20):
        text = list(postcode)
        if rng.random() < 0.6:
            i = rng.choice(chars[1:])
            pool = "0123456789" if text[i].isdigit() else POSTCODE_LETTERS
            new = rng.choice(pool)
            text[i] = new.lower() if text[i].islower() else new
        else:
            k = rng.randrange(1, len(chars) - 1)
            i, j = chars[k], chars[k + 1]
            text[i], text[j] = text[j], text[i]
        if "".join(text) != postcode:
            return "".join(text)
    return postcode


# The key under which a person's columns carry the true home to ``add`` (never written).
HOME_UPRN = "_home_uprn"

# Households per chunk: a chunk is generated in one process and written as one part.
CHUNK = 25_000


def _generate_chunk(job: tuple[Path, int, int, int, dt.date, float, float]) -> Path:
    folder, chunk, households, seed, as_of, noise, address_noise = job
    generator = Generator(households, seed if chunk == 0 else seed * 1_000_003 + chunk, as_of,
                          noise, first=chunk * CHUNK, address_noise=address_noise)
    generator.build()
    generator.write(folder)
    return folder


def _combine(parts: list[Path], out: Path) -> None:
    """Concatenate chunk folders into one set of extracts and truth (rows renumbered)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)
    names = sorted(p.name for p in parts[0].glob("*.csv"))
    for name in [*names, *(f"truth/{t}" for t in ("persons.csv", "households.csv"))]:
        with (out / name).open("wb") as target:
            for n, part in enumerate(parts):
                with (part / name).open("rb") as source:
                    header = source.readline()
                    if n == 0:
                        target.write(header)
                    shutil.copyfileobj(source, target, 1 << 20)
    with duckdb.connect() as con:
        con.execute("""create table truth as select * from read_csv($paths,
            filename = true, all_varchar = true)""",
                    {"paths": [str(part / "truth" / "records.csv") for part in parts]})
        con.execute("""copy (
            select extract, row_number() over (partition by extract
                order by parse_dirpath(filename), cast(source_row as bigint)) as source_row,
                person_id, uprn
            from truth order by extract, source_row
        ) to '""" + str(out / "truth" / "records.csv").replace("'", "''") + "' (header)")


def write_parquet(folder: Path) -> None:
    """Each extract of ``folder`` also as ``folder/parquet/<extract>.parquet``, streamed."""
    (folder / "parquet").mkdir(exist_ok=True)
    for path in sorted(folder.glob("*.csv")):
        encoding, _ = sniff(path)  # Windows-1252 for the noisy borough's indicators
        with path.open("rb") as f:
            names = f.readline().decode(encoding).strip().split(",")
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(encoding=encoding),
                                convert_options=pacsv.ConvertOptions(
                                    column_types=dict.fromkeys(names, pa.string())))
        with pq.ParquetWriter(folder / "parquet" / f"{path.stem}.parquet",
                              reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)


def generate(out: Path, households: int = 400, seed: int = 7,
             as_of: dt.date = dt.date(2025, 9, 30), noise: float = 1.0, workers: int = 1,
             parquet: bool = False, address_noise: float | None = None) -> None:
    """Write a synthetic borough's extracts and truth into ``out``.

    Up to ``CHUNK`` households are one generator; a larger borough is made in chunks of
    households (each seeded from ``seed`` and its number, so the result does not depend on
    ``workers``) on ``workers`` processes, then concatenated.
    """
    n_chunks = -(-households // CHUNK)
    address_noise = noise if address_noise is None else address_noise
    if n_chunks <= 1:
        _generate_chunk((out, 0, households, seed, as_of, noise, address_noise))
    else:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            jobs = [(Path(tmp) / f"{c:05d}", c, min(CHUNK, households - c * CHUNK), seed,
                     as_of, noise, address_noise) for c in range(n_chunks)]
            with ProcessPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(_generate_chunk, jobs))
            _combine(parts, out)
    if parquet:
        write_parquet(out)


def main() -> None:
    p = argparse.ArgumentParser(description="Generate a synthetic borough's extracts.")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--households", type=int, default=400)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 9, 30))
    p.add_argument("--noise", type=float, default=1.0)
    p.add_argument("--address-noise", type=float, default=None,
                   help="address keying errors between agencies (default: as --noise)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="processes for a borough of more than one chunk of households")
    p.add_argument("--parquet", action="store_true",
                   help="also write every extract as Parquet under <out>/parquet/")
    args = p.parse_args()
    generate(args.out, args.households, args.seed, args.as_of, args.noise, args.workers,
             args.parquet, args.address_noise)


if __name__ == "__main__":
    main()

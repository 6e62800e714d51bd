"""Code lists the extracts may hold (lower case; synonyms map to one code)."""

TERMS = ("autumn", "spring", "summer")
PROVISIONS = ("mainstream", "pru", "alternative_provision")
EXCLUSION_CATEGORIES = ("suspension", "permanent", "fixed", "fixed_term")
# Staging folds these synonyms into the code the rules use.
EXCLUSION_SYNONYMS = {"fixed": "suspension", "fixed_term": "suspension"}
DISPOSALS = (
    "conviction",
    "caution",
    "youth_caution",
    "youth_conditional_caution",
    "reprimand",
    "final_warning",
    "community_resolution",
    "nfa",
)
ASB_RECORD_TYPES = ("incident", "intervention")
ASB_INTERVENTIONS = (
    "asbo",
    "cbo",
    "asb_injunction",
    "abc",
    "nosp_asb",
    "housing_injunction",
    "demotion_order",
    "asb_eviction",
    "warning_letter",
)
BENEFITS = ("jsa", "esa", "ib", "is", "sda", "ca", "uc_no_work", "pip", "dla", "hb", "ctr")
EMPLOYMENT_KINDS = ("employment", "work_programme", "esf")
GENDERS = ("m", "f", "x")
CLAIM_RESULTS = ("crime_asb_education", "continuous_employment", "progress_to_work")

# A person's decision on a pair from the linkage review queue.
MATCH_DECISIONS = ("match", "no_match")

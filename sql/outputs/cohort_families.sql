-- cohort_families.csv: one row per family in the cohort, with the criteria it meets,
-- why it qualifies and its evidence (the columns: outputs.yaml).
select
    family_id, address, postcode, ward, members, children, adults,
    -- one column per criterion of the rule set, in its order
    columns(c -> list_contains($criteria, c)),
    criteria_met, qualifies_by, status, evidence, uprn, lsoa, imd_decile
from cohort
order by family_id

-- cohort_members.csv: one row per member of a family in the cohort, with their
-- identifiers, the criteria they bring and their evidence (the columns: outputs.yaml).
select
    family_id, person_id, forename, surname, date_of_birth, role, age,
    upn, nino, police_ref, asb_ref, is_new_to_family,
    columns(c -> list_contains($criteria, c)),
    evidence
from cohort_members
order by family_id, role, date_of_birth, person_id

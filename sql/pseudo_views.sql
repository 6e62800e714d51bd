-- Pseudonymised views for analysts: salted hashes instead of ids, no names, dates of birth,
-- identifiers, addresses or evidence text (the named view beside them: named_views.sql). The salt is never stored: each session sets it,
--   SET VARIABLE pseudo_salt = '…';   (from the council's own configuration)
-- and without it these views fail rather than show anything.

create or replace macro main.pseudo(x) as
    case
        when coalesce(getvariable('pseudo_salt'), '') = ''
            then error('the pseudonymised views need a salt: SET VARIABLE pseudo_salt = ''…''')
        else left(sha256(getvariable('pseudo_salt') || ':' || x), 16)
    end;

create or replace view main.persons_pseudo as
select run_id, main.pseudo(person_id) as pseudo_person_id, year(date_of_birth) as birth_year,
    age, gender, split_part(postcode, ' ', 1) as postcode_district,
    main.pseudo(household_key) as pseudo_household, n_records,
    upn is not null as has_upn, nino is not null as has_nino,
    police_ref is not null as has_police_ref, asb_ref is not null as has_asb_ref
from main.persons;

create or replace view main.family_members_pseudo as
select run_id, main.pseudo(family_id) as pseudo_family_id,
    main.pseudo(person_id) as pseudo_person_id, member_role, age
from main.family_members;

create or replace view main.families_pseudo as
select run_id, main.pseudo(family_id) as pseudo_family_id, ward, lsoa, imd_decile,
    split_part(postcode, ' ', 1) as postcode_district, members, children, adults
from main.families;

create or replace view main.criteria_evidence_pseudo as
select run_id, main.pseudo(family_id) as pseudo_family_id,
    main.pseudo(person_id) as pseudo_person_id, criterion, rule_name, extract_name,
    cast(date_trunc('month', event_date) as date) as event_month
from main.criteria_evidence;

create or replace view main.cohort_pseudo as
select c.run_id, main.pseudo(c.family_id) as pseudo_family_id, f.ward, f.lsoa, f.imd_decile,
    f.members, f.children, f.adults, c.criteria_met, c.qualifies_by, c.status
from main.cohort_history as c
join main.families_history as f using (run_id, family_id)
where c.run_id = (select run_id from main.latest_screen_run);

create or replace view main.family_flags_pseudo as
select run_id, main.pseudo(family_id) as pseudo_family_id, criterion, is_met
from main.family_flags;

create or replace view main.pbr_candidates_pseudo as
select run_id, main.pseudo(family_id) as pseudo_family_id, result, status, window_start,
    window_end, value_gbp
from main.pbr_candidates;

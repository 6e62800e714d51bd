-- Named views: the people behind the pseudonymised views, for staff allowed to see them
-- (the Gateway team's analysts, a key worker's manager), never for sharing or export; an
-- analyst working on figures uses the *_pseudo views instead. Like every view here they
-- show the latest screening run.

create or replace view main.family_members_named as
select
    m.run_id,
    m.family_id,
    m.person_id,
    m.member_role,
    m.age,
    p.forename,
    p.surname,
    p.date_of_birth,
    p.gender,
    p.address,
    p.postcode,
    p.upn,
    p.nino,
    p.police_ref,
    p.asb_ref,
    c.family_id is not null as is_in_cohort
from main.family_members as m
join main.persons as p using (run_id, person_id)
left join main.cohort_history as c using (run_id, family_id);

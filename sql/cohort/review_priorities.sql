-- review_priorities: one row per review_queue pair, with how far deciding it could change
-- this run's cohort, so that a reviewer facing thousands of pairs (a region's queue) starts
-- where a decision matters. Each side is the family its record's person was placed in.
--   1 two families, one meeting a criterion: a merge moves a person, and their evidence,
--     into one of them, which may then qualify, or a qualifying family may lose a member
--   2 one cohort family: the family qualifies either way; a merge makes two entries in
--     its member list one person
--   3 one family outside the cohort: its evidence is pooled whichever way it is decided
--   4 two families, neither meeting any criterion: no person in either has evidence to
--     bring, so no decision changes this run's cohort
-- Within a priority the queue keeps its order (most likely pairs first).
with sides as (
    select
        pr.record_id,
        fm.family_id,
        coalesce(fc.criteria_met, 0) > 0 as meets_a_criterion,
        c.family_id is not null as in_cohort
    from person_records as pr
    left join family_members as fm using (person_id)
    left join family_criteria as fc using (family_id)
    left join cohort as c using (family_id)
),

final as (
    select
        q.record_id_l,
        q.record_id_r,
        case
            when l.family_id is not distinct from r.family_id and l.in_cohort then 2
            when l.family_id is not distinct from r.family_id then 3
            when l.meets_a_criterion or r.meets_a_criterion then 1
            else 4
        end as priority
    from review_queue as q
    join sides as l on l.record_id = q.record_id_l
    join sides as r on r.record_id = q.record_id_r
)

select
    *,
    case priority
        when 1 then 'two families, one meeting a criterion'
        when 2 then 'one cohort family'
        when 3 then 'one family outside the cohort'
        else 'two families, neither meeting a criterion'
    end as bears_on
from final

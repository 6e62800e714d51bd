-- family_successors: one row per family of the previous run ($previous_run_id) with the
-- household of this run its id passes to (successor_household_key, null when none): the
-- household whose membership is substantially the same, overlap (family_overlaps.sql) at
-- least $min_family_overlap, the best overlap first (so a family that parts leaves its id
-- with the larger part), ties to the first household key. A household succeeding several
-- families (they now live together: a merge) keeps one id: family_ids.sql.
with previous_families as (
    select family_id, count(*) as n_previous_members
    from main.family_members_history
    where run_id = $previous_run_id
    group by family_id
),

ranked as (
    select
        *,
        count(*) over (partition by family_id) as n_parts,
        row_number() over (partition by family_id
            order by overlap desc, n_shared_members desc, household_key) as rank_for_family
    from family_overlaps
),

final as (
    select
        p.family_id,
        r.household_key as successor_household_key,
        cast(p.n_previous_members as integer) as n_previous_members,
        coalesce(r.n_shared_members, 0) as n_shared_members,
        coalesce(r.overlap, 0) as overlap,
        cast(coalesce(r.n_parts, 0) as integer) as n_parts
    from previous_families as p
    left join ranked as r
        on r.family_id = p.family_id and r.rank_for_family = 1
            and r.overlap >= $min_family_overlap
)

select * from final

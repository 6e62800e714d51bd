-- person_ids: one row per linked person (a cluster of records) with its person_id.
-- A person keeps the id of the previous run's person with whom they share most source
-- identifiers, or failing those their standardised name and date of birth (each old id
-- goes to one person only), so a mover, a newly linked record or a re-run keeps its id. Everyone else gets the next free number, in anchor order, so the
-- same inputs always give the same ids.
with cluster_keys as (
    select distinct c.cluster_id, k.key_type, k.key_value
    from link_clusters as c
    join std_person_keys as k using (record_id)
    union
    select distinct c.cluster_id, 'name_dob', r.name_key
    from link_clusters as c
    join std_person_records as r using (record_id)
    where r.name_key is not null
),

anchors as (
    select
        c.cluster_id,
        coalesce(
            min(k.key_type || ':' || k.key_value),
            min(concat_ws(':', 'name', r.surname_std, r.forename_std, r.date_of_birth,
                r.record_id))
        ) as anchor
    from link_clusters as c
    join std_person_records as r using (record_id)
    left join std_person_keys as k using (record_id)
    group by c.cluster_id
),

previous as (
    select person_id, key_type, key_value
    from main.person_keys_history
    where run_id = $previous_run_id
),

candidates as (
    select ck.cluster_id, p.person_id, count(*) as n_shared_keys
    from cluster_keys as ck
    join previous as p using (key_type, key_value)
    group by ck.cluster_id, p.person_id
),

ranked as (
    select
        *,
        row_number() over (partition by cluster_id order by n_shared_keys desc, person_id)
            as rank_for_cluster,
        row_number() over (partition by person_id order by n_shared_keys desc, cluster_id)
            as rank_for_person
    from candidates
),

inherited as (
    select cluster_id, person_id from ranked where rank_for_cluster = 1 and rank_for_person = 1
),

fresh as (
    select
        a.cluster_id,
        -- at least 7 digits, more once numbers pass them (lpad would cut them short)
        'P' || printf('%07d',
            $next_person_number + row_number() over (order by a.anchor) - 1) as person_id
    from anchors as a
    anti join inherited as i using (cluster_id)
),

final as (
    select cluster_id, person_id from inherited
    union all
    select cluster_id, person_id from fresh
)

select * from final

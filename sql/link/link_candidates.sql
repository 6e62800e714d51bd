-- link_candidates: one row per pair of profiles from different deterministic clusters
-- that the model scored at least the review threshold or that a person decided, with its
-- band: linked (at least the accept threshold), review (uncertain: waits for a person),
-- confirmed or rejected (a person's decision from match_decisions.csv, which wins over
-- the model). A decision names identities (profile keys), so it applies to every pair of
-- profiles with those keys.
with scored as (
    select
        s.unique_id_l,
        s.unique_id_r,
        s.match_weight,
        s.match_probability,
        s.mw_forename,
        s.mw_surname,
        s.mw_tf_adj_surname,
        s.mw_dob,
        s.mw_location
    from link_scores as s
),

decided as (
    select
        least(l.unique_id, r.unique_id) as unique_id_l,
        greatest(l.unique_id, r.unique_id) as unique_id_r,
        d.decision
    from stg_match_decisions as d
    join link_profiles as l on l.profile_key = d.profile_key_l
    join link_profiles as r on r.profile_key = d.profile_key_r
    where l.cluster_id <> r.cluster_id
),

joined as (
    select
        coalesce(s.unique_id_l, d.unique_id_l) as unique_id_l,
        coalesce(s.unique_id_r, d.unique_id_r) as unique_id_r,
        s.* exclude (unique_id_l, unique_id_r),
        d.decision
    from scored as s
    full join decided as d using (unique_id_l, unique_id_r)
),

final as (
    select
        j.unique_id_l,
        j.unique_id_r,
        pl.profile_key as profile_key_l,
        pr.profile_key as profile_key_r,
        case
            when j.decision = 'match' then 'confirmed'
            when j.decision = 'no_match' then 'rejected'
            when j.match_probability >= $accept_probability then 'linked'
            else 'review'
        end as band,
        j.* exclude (unique_id_l, unique_id_r, decision)
    from joined as j
    join link_profiles as pl on pl.unique_id = j.unique_id_l
    join link_profiles as pr on pr.unique_id = j.unique_id_r
)

select * from final

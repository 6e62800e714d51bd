-- person_records: one row per staged person-level source record, with its person and the
-- strongest evidence that joins it to the rest of them: source_key (shares an identifier
-- with another record of the person), name_dob (exact standardised name and date of
-- birth), reviewer (a person confirmed the pair), probabilistic (the model's link, scored
-- by its match probability) or single_record (the person's only record). A model or
-- reviewer link made between two identities speaks for every record of those identities.
with ranked as (
    select
        record_id_l,
        record_id_r,
        case method when 'source_key' then 1 when 'name_dob' then 2 when 'reviewer' then 3
            else 4 end as rank,
        score
    from link_edges_final
),

own as (
    -- each link speaks for both its records
    select record_id_l as record_id, rank, score from ranked
    union all
    select record_id_r, rank, score from ranked
),

through_profile as (
    select rp.record_id, o.rank, o.score
    from link_record_profiles as rp
    join link_profiles as p using (cluster_id, profile_key)
    join own as o on o.record_id = p.unique_id
    where o.rank >= 3 and rp.record_id <> p.unique_id
),

evidence as (
    select record_id, min(rank) as rank, max(score) filter (where rank = 4) as probability
    from (select * from own union all select * from through_profile)
    group by record_id
),

final as (
    select
        r.extract,
        r.source_row,
        r.record_id,
        i.person_id,
        case e.rank when 1 then 'source_key' when 2 then 'name_dob' when 3 then 'reviewer'
            when 4 then 'probabilistic' else 'single_record' end as match_method,
        case when e.rank = 4 then e.probability when e.rank is not null then 1.0 end
            as match_score
    from std_person_records as r
    join link_clusters as c using (record_id)
    join person_ids as i using (cluster_id)
    left join evidence as e using (record_id)
)

select * from final

-- person_records: one row per staged person-level source record, with its person and how
-- it was linked: source_key (shares an identifier with another record of the person),
-- name_dob (exact standardised name and date of birth), or single_record (the person's
-- only record). Deterministic links score 1.0.
with methods as (
    select record_id_l as record_id, min(case method when 'source_key' then 1 else 2 end) as m
    from link_edges
    group by record_id_l
),

final as (
    select
        r.extract,
        r.source_row,
        r.record_id,
        i.person_id,
        case m.m when 1 then 'source_key' when 2 then 'name_dob' else 'single_record' end
            as match_method,
        case when m.m is not null then 1.0 end as match_score
    from std_person_records as r
    join link_clusters as c using (record_id)
    join person_ids as i using (cluster_id)
    left join methods as m using (record_id)
)

select * from final

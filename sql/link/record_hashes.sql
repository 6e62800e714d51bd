-- record_hashes: one row per staged person-level source record, with its cluster (the
-- person it is linked to this run) and a fingerprint of what it says about the person:
-- its extract, name, date of birth, gender, address, identifiers and own date (not its
-- row number, which moves whenever other rows come or go; not a date that is only the
-- as-of date standing in for "still open"). A record unchanged between runs has the same
-- fingerprint, so ids are carried by the records a person had (person_overlaps.sql).
-- Records saying exactly the same are told apart by their order (record_n), so each
-- previous record matches one record at most.
with keys as (
    -- a list sorted after, not an ordered aggregate (which sorts every group: 5x slower)
    select record_id, array_to_string(list_sort(list(key_type || ':' || key_value)), ';')
        as identifiers
    from std_person_keys
    group by record_id
),

hashed as (
    select
        r.record_id,
        c.cluster_id,
        r.source_row,
        md5_number(cast([r.extract, r.forename, r.surname,
            cast(r.date_of_birth as varchar), r.gender, r.address, r.postcode, r.uprn,
            cast(nullif(r.record_date, $as_of::date) as varchar), k.identifiers] as varchar))
            as record_hash
    from std_person_records as r
    join link_clusters as c using (record_id)
    left join keys as k using (record_id)
),

final as (
    select
        record_id,
        cluster_id,
        record_hash,
        cast(row_number() over (partition by record_hash order by source_row) as integer)
            as record_n
    from hashed
)

select * from final

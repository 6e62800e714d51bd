-- link_profiles: one row per distinct identity written in the records of one
-- deterministic cluster (standardised forename, surname, date of birth, postcode and
-- address): the grain the probabilistic model compares, so four school terms of a child
-- written alike are compared once. unique_id is the profile's first record.
with fingerprinted as (
    select * from link_record_profiles
),

profiles as (
    select
        min(record_id) as unique_id,
        cluster_id,
        profile_key,
        min(forename) as forename,
        min(surname) as surname,
        min(surname_parts) as surname_parts,
        min(dob) as dob,
        min(postcode) as postcode,
        min(house_number) as house_number,
        min(flat) as flat,
        min(street) as street,
        min(address_words) as address_words,
        min(address_text) as address_text,
        min(key_label) as key_label,
        count(*) as n_records
    from fingerprinted
    group by cluster_id, profile_key
),

variants as (
    select name, list(variant order by variant) as forename_variants
    from ref_name_variants
    group by name
),

final as (
    select
        p.unique_id,
        p.cluster_id,
        p.profile_key,
        p.forename,
        coalesce(v.forename_variants, []) as forename_variants,
        p.surname,
        p.surname_parts,
        p.dob,
        strftime(p.dob, '%Y%m%d') as dob_digits,
        case when day(p.dob) <= 12 then strftime(p.dob, '%Y%d%m') end as dob_swapped,
        year(p.dob) as dob_year,
        month(p.dob) as dob_month,
        day(p.dob) as dob_day,
        p.postcode,
        split_part(p.postcode, ' ', 1) || ' ' || left(split_part(p.postcode, ' ', 2), 1)
            as postcode_sector,
        split_part(p.postcode, ' ', 1) as postcode_district,
        p.house_number,
        p.flat,
        p.street,
        p.address_words,
        p.address_text,
        p.key_label,
        p.n_records
    from profiles as p
    left join variants as v on v.name = p.forename
)

select * from final

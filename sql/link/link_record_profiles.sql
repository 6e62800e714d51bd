-- link_record_profiles: one row per person record that carries a name or a date of
-- birth, with its deterministic cluster and its identity fingerprint (profile_key: the
-- standardised names, date of birth, postcode and address). The fingerprint names the
-- identity, not the row, so a reviewer's decision on a pair still applies when next
-- month's extract renumbers its rows.
with records as (
    select
        r.record_id,
        c.cluster_id,
        r.forename_first_std as forename,
        r.forename_std as forename_full,
        r.surname_std as surname,
        list_filter(
            regexp_split_to_array(regexp_replace(upper(strip_accents(r.surname)), '[^A-Z -]',
                '', 'g'), '[ -]+'),
            x -> length(x) > 1) as surname_parts,
        r.date_of_birth as dob,
        r.postcode,
        a.house_number,
        a.flat,
        a.street,
        -- the street's and town's words, for the model's address comparison
        list_distinct(list_filter(string_split(concat_ws(' ', a.street, a.locality), ' '),
            w -> w <> '')) as address_words,
        -- the same words as written, run together: a street run into the next word
        -- ("STURGESWPLACE") or a word split in two ("VAL LEY") stays alike letter by
        -- letter (Jaro-Winkler) though its words differ
        nullif(replace(concat_ws(' ', a.street, a.locality), ' ', ''), '') as address_text
    from std_person_records as r
    join link_det_clusters as c using (record_id)
    left join std_addresses as a
        on a.address is not distinct from r.address
        and a.postcode is not distinct from r.postcode
    where r.surname_std is not null or r.forename_std is not null or r.date_of_birth is not null
),

keys as (
    select record_id, min(key_type || ':' || key_value) as key_label
    from std_person_keys
    group by record_id
),

fingerprinted as (
    select
        r.*,
        k.key_label,
        'K' || left(md5(concat_ws('|', r.forename_full, r.surname, r.dob, r.postcode,
            r.house_number, r.flat, r.street)), 16) as profile_key
    from records as r
    left join keys as k using (record_id)
)

select * from fingerprinted

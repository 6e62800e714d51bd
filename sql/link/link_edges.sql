-- link_edges: one row per pair of person records (the smaller record id on the left) that
-- the deterministic passes say are one person, with the pass that said so. One direction
-- is enough for every reader (components, evidence per record) and halves the table.
--   source_key: the same identifier of one system (UPN, NINO, police or ASB reference);
--   name_dob:   exact standardised surname and date of birth, and the same forename, first
--               forename or a known nickname of it; never between records that carry
--               different identifiers of one system. Where one name and date of birth
--               belong to records with conflicting identifiers (two different UPNs, say)
--               the pair must also share a postcode: address only breaks ties.
with keyed as (
    select record_id, key_type || ':' || key_value as person_key, key_type, key_value
    from std_person_keys
),

key_anchor as (
    select person_key, min(record_id) as anchor_id from keyed group by person_key
),

key_edges as (
    select a.anchor_id as record_id_l, k.record_id as record_id_r, 'source_key' as method
    from keyed as k
    join key_anchor as a using (person_key)
    where k.record_id <> a.anchor_id
),

named as (
    select record_id, forename_std, forename_first_std, surname_std, date_of_birth, postcode
    from std_person_records
    where surname_std is not null and date_of_birth is not null and forename_std is not null
),

name_pairs as (
    select l.record_id as record_id_l, r.record_id as record_id_r,
        l.postcode is not distinct from r.postcode and l.postcode is not null as same_postcode,
        l.surname_std, l.date_of_birth
    from named as l
    join named as r
        on l.surname_std = r.surname_std
        and l.date_of_birth = r.date_of_birth
        and l.record_id < r.record_id
    where l.forename_std = r.forename_std
        or l.forename_first_std = r.forename_first_std
        or exists (
            select 1 from ref_name_variants as v
            where v.name = l.forename_first_std and v.variant = r.forename_first_std
        )
),

conflicting_pairs as (
    select distinct p.record_id_l, p.record_id_r
    from name_pairs as p
    join keyed as kl on kl.record_id = p.record_id_l
    join keyed as kr
        on kr.record_id = p.record_id_r
        and kr.key_type = kl.key_type
        and kr.key_value <> kl.key_value
),

contested_groups as (
    -- name + date of birth groups whose records hold different identifiers of one system
    select n.surname_std, n.date_of_birth
    from named as n
    join keyed as k using (record_id)
    group by n.surname_std, n.date_of_birth, k.key_type
    having count(distinct k.key_value) > 1
),

name_edges as (
    select p.record_id_l, p.record_id_r, 'name_dob' as method
    from name_pairs as p
    left join conflicting_pairs as c using (record_id_l, record_id_r)
    left join contested_groups as g using (surname_std, date_of_birth)
    where c.record_id_l is null
        and (g.surname_std is null or p.same_postcode)
),

final as (
    select record_id_l, record_id_r, method from key_edges
    union all
    select record_id_l, record_id_r, method from name_edges
)

select * from final

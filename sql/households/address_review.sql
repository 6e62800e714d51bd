-- address_review: one row per address written in person records that resolves to no
-- gazetteer property although a gazetteer was supplied, with how many records give it,
-- why it resolved to none and the properties it could be (up to five, nearest postcode
-- first): what a person checks to add the address to the gazetteer or correct a source.
with unresolved as (
    select m.*
    from address_matches as m
    where m.uprn is null and m.unresolved_reason <> 'no gazetteer supplied'
),

records as (
    select u.address, u.postcode, count(*) as n_records
    from unresolved as u
    join std_person_records as r
        on r.address is not distinct from u.address
        and r.postcode is not distinct from u.postcode
    group by all
),

gazetteer as (
    select g.uprn, g.address, g.postcode, a.house_number, a.flat, a.street,
        split_part(g.postcode, ' ', 1) as district
    from stg_gazetteer as g
    join std_addresses as a
        on a.address is not distinct from g.address
        and a.postcode is not distinct from g.postcode
),

nearby as (
    -- properties of the same number and flat on the same street, or in the same postcode
    -- district on a street spelt alike (two joins: one on number and flat alone would
    -- meet every property of that number in a region)
    select u.address, u.postcode, g.uprn
    from unresolved as u
    join gazetteer as g
        on g.house_number = u.house_number
        and g.flat is not distinct from u.flat
        and g.street = u.street
    union
    select u.address, u.postcode, g.uprn
    from unresolved as u
    join gazetteer as g
        on g.house_number = u.house_number
        and g.flat is not distinct from u.flat
        and g.district = split_part(u.postcode, ' ', 1)
    where jaro_winkler_similarity(g.street, u.street) >= 0.9
),

candidates as (
    select n.address, n.postcode,
        string_agg(g.address || ' ' || g.postcode || ' (UPRN ' || g.uprn || ')', '; '
            order by damerau_levenshtein(coalesce(n.postcode, ''), g.postcode), g.uprn)
            as candidates
    from nearby as n
    join gazetteer as g using (uprn)
    group by n.address, n.postcode
),

final as (
    select u.address, u.postcode, r.n_records, u.unresolved_reason,
        list_slice(string_split(c.candidates, '; '), 1, 5) as candidates
    from unresolved as u
    join records as r
        on r.address is not distinct from u.address and r.postcode is not distinct from u.postcode
    left join candidates as c
        on c.address is not distinct from u.address and c.postcode is not distinct from u.postcode
)

select * from final

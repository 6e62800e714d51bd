-- address_matches: one row per distinct (address, postcode) in person records, with
-- the gazetteer property it resolves to (uprn, how: uprn_method, the gazetteer's own
-- address) or why it resolves to none, and the household key: the UPRN when known, else
-- the standardised address key.
--
-- Resolution, best first:
--   address_key         the gazetteer holds the same key (postcode, number, flat, street);
--   postcode_slip       no property holds the key, but one of the same number and flat,
--                       on a street spelt alike, has a postcode one keying slip away (a
--                       character changed, or two transposed: CH47 8XG / CH47 8XW);
--   other_postcode      failing that, one of the same number, flat and street in the same
--                       postcode district (an old postcode, or two slips);
--   street_in_locality  written without a postcode: the one place (property, or address
--                       key where the gazetteer has none) of the same number, flat and
--                       street among every postcoded address, in the same locality where
--                       both name one ("14 Church Road, Wallasey" is not the one in
--                       Bebington).
-- A postcoded address's locality is every town its address key is written with
-- (key_locality), so "3/55 Fairby Street, BB37 1SH", naming none, is still not the Fairby
-- Street of Bolton. Where several properties fit equally the address resolves to none
-- (n_candidates says how many): "29 Victoria Street" of several towns would pool
-- strangers from each into one family, and persons.sql places the person: by a record
-- that does name one, else where someone of their surname (or one a typo away) lives,
-- else in a household of their own.
with written as (
    select a.* from std_addresses as a
    where exists (
        select 1 from std_person_records as r
        where r.address is not distinct from a.address
            and r.postcode is not distinct from a.postcode
    )
),

key_localities as (
    -- every town an address key is written with: "3/55 Fairby Street, BB37 1SH" names
    -- none, but its key's other spellings and the gazetteer say Blackburn
    select address_key, string_agg(distinct locality, ' ') as locality
    from std_addresses
    where address_key is not null and locality is not null
    group by address_key
),

gazetteer_addresses as (
    select g.uprn, g.address as gazetteer_address, a.postcode, a.house_number, a.flat,
        a.street, a.street_type, a.locality, a.address_key,
        split_part(a.postcode, ' ', 1) as district
    from stg_gazetteer as g
    join std_addresses as a
        on a.address is not distinct from g.address
        and a.postcode is not distinct from g.postcode
),

postcoded as (
    -- every postcoded address written (in person records or the gazetteer)
    select address, postcode, house_number, flat, street, street_type, locality, address_key,
        split_part(postcode, ' ', 1) as district
    from std_addresses
    where postcode is not null and address_key is not null
),

gazetteer_keys as (
    -- the key's properties, less those on a street of another type ("28 Ashbury Close" is
    -- not "28 Ashbury Road" of the same postcode, which a slipped postcode can name)
    select p.address, p.postcode, min(g.uprn) as uprn, count(distinct g.uprn) as n_uprns,
        min(g.gazetteer_address) as gazetteer_address
    from postcoded as p
    join gazetteer_addresses as g
        on g.address_key = p.address_key
        and (p.street_type is null or g.street_type is null or p.street_type = g.street_type)
    group by p.address, p.postcode
),

unmatched as (
    select p.*
    from postcoded as p
    anti join gazetteer_keys as g using (address, postcode)
    where p.house_number is not null and p.street is not null
),

nearby as (
    -- properties of the same number and flat in the same postcode district or on the same
    -- street (two joins, not one on either: a join on "or" compares every pair)
    select u.address, u.postcode, u.street, u.street_type, u.district, u.locality, g.uprn
    from unmatched as u
    join gazetteer_addresses as g
        on g.house_number = u.house_number
        and g.flat is not distinct from u.flat
        and g.district = u.district
    union
    select u.address, u.postcode, u.street, u.street_type, u.district, u.locality, g.uprn
    from unmatched as u
    join gazetteer_addresses as g
        on g.house_number = u.house_number
        and g.flat is not distinct from u.flat
        and g.street = u.street
),

fuzzy_candidates as (
    -- scored: 3, a postcode one slip away on the same street; 2, the same on a street spelt
    -- alike (of the same type: "Ashfield Road" is not "Ashford Road" and "Ashfield Close"
    -- not "Ashfield Street"); 1, the same street in the same district under another
    -- postcode
    select n.address, n.postcode, g.uprn, g.gazetteer_address,
        case
            when damerau_levenshtein(replace(n.postcode, ' ', ''), replace(g.postcode, ' ', ''))
                    <= 1
                then case
                    when n.street = g.street then 3
                    when n.street_type is not distinct from g.street_type
                        and damerau_levenshtein(n.street, g.street) <= 1 then 2
                end
            when n.district = g.district and n.street = g.street then 1
        end as score
    from nearby as n
    join gazetteer_addresses as g using (uprn)
    where same_locality(n.locality, g.locality)
),

fuzzy as (
    select address, postcode, max(score) as score,
        count(distinct uprn) filter (where score = best) as n_best,
        min(uprn) filter (where score = best) as uprn,
        min(gazetteer_address) filter (where score = best) as gazetteer_address
    from (select *, max(score) over (partition by address, postcode) as best
          from fuzzy_candidates where score is not null)
    group by address, postcode
),

postcoded_places as (
    -- each postcoded address's place: its property where one resolves, else its own key
    select
        p.*,
        case when g.n_uprns = 1 then g.uprn when g.uprn is null and f.n_best = 1 then f.uprn
            end as uprn,
        case
            when g.n_uprns = 1 then 'address_key'
            when g.uprn is null and f.n_best = 1 and f.score >= 2 then 'postcode_slip'
            when g.uprn is null and f.n_best = 1 then 'other_postcode'
        end as uprn_method,
        case when g.n_uprns = 1 then g.gazetteer_address
            when g.uprn is null and f.n_best = 1 then f.gazetteer_address
            end as gazetteer_address,
        case when g.n_uprns > 1 then g.n_uprns when g.uprn is null and f.n_best > 1
            then f.n_best end as n_candidates
    from postcoded as p
    left join gazetteer_keys as g using (address, postcode)
    left join fuzzy as f using (address, postcode)
),

twins as (
    -- an address without a postcode: the places of the same number, flat and street
    select w.address, w.postcode, count(distinct coalesce('U:' || c.uprn, 'A:' || c.address_key))
            as n_places,
        min(c.address_key) as address_key,
        min(c.uprn) as uprn,
        min(c.gazetteer_address) as gazetteer_address
    from written as w
    join postcoded_places as c
        on c.house_number is not distinct from w.house_number
        and c.flat is not distinct from w.flat
        and c.street = w.street
    left join key_localities as k on k.address_key = c.address_key
    -- the place's town: its key's towns, and the gazetteer's for the property it resolved
    -- to (a slipped postcode written without a town names none of its own)
    left join gazetteer_addresses as g on g.uprn = c.uprn
    where w.postcode is null
        and same_locality(nullif(concat_ws(' ', k.locality, g.locality), ''), w.locality)
    group by w.address, w.postcode
),

resolved as (
    select
        w.* exclude (address_key),
        case when w.postcode is null and t.n_places = 1 then t.address_key
            else w.address_key end as address_key,
        case when w.postcode is null and t.n_places = 1 then t.uprn else p.uprn end as uprn,
        case when w.postcode is null and t.n_places = 1 and t.uprn is not null
            then 'street_in_locality' else p.uprn_method end as uprn_method,
        case when w.postcode is null and t.n_places = 1 then t.gazetteer_address
            else p.gazetteer_address end as gazetteer_address,
        case when w.postcode is null and t.n_places > 1 then t.n_places
            else p.n_candidates end as n_candidates,
        coalesce(w.postcode is null and t.n_places > 1, false) as ambiguous
    from written as w
    left join postcoded_places as p
        on p.address is not distinct from w.address and p.postcode = w.postcode
    left join twins as t
        on t.address is not distinct from w.address and t.postcode is not distinct from w.postcode
),

final as (
    select
        r.address,
        r.postcode,
        r.address_std,
        r.flat,
        r.house_number,
        r.street,
        r.locality,
        k.locality as key_locality,
        r.address_key,
        r.uprn,
        r.uprn_method,
        r.gazetteer_address,
        r.n_candidates,
        case
            when r.uprn is not null then null
            when r.address_std is null or r.address_std = '' then 'no address written'
            when not exists (select 1 from stg_gazetteer) then 'no gazetteer supplied'
            when r.ambiguous or r.n_candidates > 1 then 'several properties fit equally'
            when r.house_number is null then 'no house number'
            else 'no gazetteer property of this number, flat and street'
        end as unresolved_reason,
        case
            when r.uprn is not null then 'U:' || r.uprn
            when r.address_key is not null and not r.ambiguous then 'A:' || r.address_key
        end as household_key,
        r.ambiguous
    from resolved as r
    left join key_localities as k using (address_key)
)

select * from final

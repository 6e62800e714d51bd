-- std_address_matches: one row per distinct (address, postcode) in person records, with
-- the gazetteer UPRN where exactly one gazetteer property shares its address key, and the
-- household key: the UPRN when known, else the standardised address key.
-- An address written without a postcode takes the key of the one postcoded address (in a
-- person record or the gazetteer) with the same house number, flat and street, in the
-- same locality where both name one ("14 Church Road, Wallasey" is not the one in
-- Bebington). A postcoded address's locality is every town its address key is written
-- with (key_locality), so "3/55 Fairby Street, BB37 1SH", naming none, is still not the
-- Fairby Street of Bolton. Where there are several it names no household: "29 Victoria
-- Street" of several towns would pool strangers from each into one family (most of the
-- cohort's false families at 200,000 households), and persons.sql places the person: by
-- a record that does name one, else where someone of their surname (or one a typo away)
-- lives, else in a household of their own.
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

postcoded_twins as (
    select w.address, w.postcode, min(c.address_key) as twin_key,
        count(distinct c.address_key) as n_twins
    from written as w
    join std_addresses as c
        on c.postcode is not null
        and c.house_number is not distinct from w.house_number
        and c.flat is not distinct from w.flat
        and c.street = w.street
    left join key_localities as k on k.address_key = c.address_key
    where w.postcode is null and same_locality(k.locality, w.locality)
    group by w.address, w.postcode
),

person_addresses as (
    select
        w.* exclude (address_key),
        case when t.n_twins = 1 then t.twin_key else w.address_key end as address_key,
        coalesce(t.n_twins > 1, false) as ambiguous
    from written as w
    left join postcoded_twins as t  -- twins are found for unpostcoded addresses only
        on t.address is not distinct from w.address
        and t.postcode is not distinct from w.postcode
),

gazetteer_keys as (
    select a.address_key, min(g.uprn) as uprn, count(distinct g.uprn) as n_uprns
    from stg_gazetteer as g
    join std_addresses as a
        on a.address is not distinct from g.address
        and a.postcode is not distinct from g.postcode
    where a.address_key is not null
    group by a.address_key
),

final as (
    select
        p.address,
        p.postcode,
        p.address_std,
        p.flat,
        p.house_number,
        p.street,
        p.locality,
        k.locality as key_locality,
        p.address_key,
        case when g.n_uprns = 1 then g.uprn end as uprn,
        case
            when g.n_uprns = 1 then 'U:' || g.uprn
            when p.address_key is not null and not p.ambiguous then 'A:' || p.address_key
        end as household_key,
        p.ambiguous
    from person_addresses as p
    left join gazetteer_keys as g using (address_key)
    left join key_localities as k using (address_key)
)

select * from final

-- person_addresses: one row per linked person with the address they live at on the as-of
-- date, the household it puts them in (household_key) and how that was decided
-- (placed_by): which record's address, resolved to which property by what method.
-- Current address: the address of the newest dated record that gives one (rules.md); a
-- record's own UPRN wins over the gazetteer match. A record written without a postcode
-- takes the place of the person's own postcoded record of the same flat, number and
-- street (a school writes the postcode in one term and drops it the next: the same home,
-- not a second household). Ties on date go to a located record, then the lower extract
-- name, then the later row, so the choice is deterministic. An address that could be
-- several places is the one where someone of the same surname lives, else the person is
-- a household of their own.
with matched as (
    select
        pr.person_id,
        r.*,
        case when r.uprn is not null then 'U:' || r.uprn else m.household_key end
            as household_key,
        coalesce(r.uprn, m.uprn) as located_uprn,
        case
            when r.uprn is not null then 'UPRN in the record'
            when m.uprn is not null then 'gazetteer: ' || m.uprn_method
            when m.household_key is not null then 'address as written (no gazetteer property)'
        end as placed_by,
        m.flat,
        m.house_number,
        m.street,
        m.locality,
        coalesce(m.ambiguous, false) as ambiguous,
        -- set only on a record to complete: written without a postcode or its own UPRN
        case when r.postcode is null and r.uprn is null then pr.person_id end
            as completes_person
    from person_records as pr
    join std_person_records as r using (record_id)
    left join address_matches as m
        on m.address is not distinct from r.address
        and m.postcode is not distinct from r.postcode
),

own_postcoded as (
    -- the newest postcoded record of each flat, number and street the person gives
    select
        person_id,
        coalesce(flat, '') as flat_key,
        coalesce(house_number, '') as number_key,
        street,
        household_key,
        located_uprn,
        postcode
    from matched
    where postcode is not null and household_key is not null and street is not null
    qualify row_number() over (
        partition by person_id, coalesce(flat, ''), coalesce(house_number, ''),
            street
        order by record_date desc, extract, source_row desc) = 1
),

records as (
    select
        m.* replace (
            coalesce(o.household_key, m.household_key) as household_key,
            case when o.household_key is not null
                then 'the same flat, number and street in their own postcoded record'
                else m.placed_by end as placed_by,
            coalesce(o.located_uprn, m.located_uprn) as located_uprn,
            coalesce(m.postcode, o.postcode) as postcode
        )
    from matched as m
    left join own_postcoded as o
        on o.person_id = m.completes_person
        and o.street = m.street
        and o.flat_key = coalesce(m.flat, '')
        and o.number_key = coalesce(m.house_number, '')
),

newest_address as (
    -- the newest record naming a household; failing one, the newest whose address is
    -- ambiguous (no postcode, and several places it could be)
    select
        person_id,
        address,
        postcode,
        located_uprn as uprn,
        household_key,
        placed_by,
        record_date as address_date,
        coalesce(flat, '') as flat_key,
        coalesce(house_number, '') as number_key,
        street,
        locality
    from records
    where household_key is not null or ambiguous
    qualify row_number() over (
        partition by person_id
        order by household_key is null, record_date desc, located_uprn is null, extract,
            source_row desc) = 1
),

homes as (
    select a.*, i.surname_key
    from newest_address as a
    join person_identities as i using (person_id)
),

place_localities as (
    -- every town a household is written with (each address key's towns, from person
    -- records and the gazetteer): one member's "3/55 Fairby Street" names none, but the
    -- place is in Blackburn
    select household_key, string_agg(distinct key_locality, ' ') as locality
    from address_matches
    where household_key is not null and key_locality is not null
    group by household_key
),

placed as (
    -- an ambiguous address is the one of its places where someone of the same surname
    -- lives: a partner's benefit claim without a postcode, the children's school records
    -- with one (in the same locality, where both name one). A surname spelt the same
    -- decides; failing one, a surname a typo away (Jaro-Winkler at least 0.92, the
    -- model's close-name level). With none or several such places, the person is a
    -- household of their own
    select person_id, case when n_same = 1 then same_key else close_key end as household_key,
        case when n_same = 1 then 'several places fit: the one where their surname lives'
            else 'several places fit: the one where a surname a typo away lives' end
            as placed_by
    from (
        select
            a.person_id,
            count(distinct o.household_key) filter (where a.surname_key = o.surname_key)
                as n_same,
            min(o.household_key) filter (where a.surname_key = o.surname_key) as same_key,
            count(distinct o.household_key) as n_close,
            min(o.household_key) as close_key
        from homes as a
        join homes as o using (flat_key, number_key, street)
        left join place_localities as l on l.household_key = o.household_key
        where a.household_key is null and o.household_key is not null
            and same_locality(a.locality, l.locality)
            and jaro_winkler_similarity(a.surname_key, o.surname_key) >= 0.92
        group by a.person_id
    )
    where n_same = 1 or (n_same = 0 and n_close = 1)
),

current_address as (
    select
        a.* exclude (household_key, placed_by, flat_key, number_key, street, locality),
        coalesce(a.household_key, p.household_key, own_household(a.person_id))
            as household_key,
        case
            when a.household_key is not null then a.placed_by
            when p.household_key is not null then p.placed_by
            else 'several places fit, none decided: a household of their own'
        end as placed_by
    from newest_address as a
    left join placed as p using (person_id)
)

select person_id, address, postcode, uprn, household_key, placed_by, address_date
from current_address

-- review_queue: one row per pair of identities waiting for a person, side by side:
-- pairs the model scored in the uncertain band or linked before link_splits took the
-- link out of a cluster, unless the records themselves say two people (below). A
-- reviewer copies rows to match_decisions.csv with a decision (match or no_match) and
-- the next run applies it.
with split_out as (
    select record_id_l as unique_id_l, record_id_r as unique_id_r from link_edges_split_out
),

dates_agree as (
    -- a pair whose dates of birth no recording error explains is left out of the queue
    -- (it stays in link_candidates): at one address, with one surname, such pairs are
    -- relatives, and they outnumbered the reviewable pairs seven to one among uncertain
    -- pairs and twenty to one among links a split took out
    select c.*, l.cluster_id as cluster_l, r.cluster_id as cluster_r
    from link_candidates as c
    join link_profiles as l on l.unique_id = c.unique_id_l
    join link_profiles as r on r.unique_id = c.unique_id_r
    where c.band in ('review', 'linked') and dob_compatible(l.dob, r.dob)
),

cluster_keys as (
    select distinct rp.cluster_id, k.key_type, k.key_value
    from link_record_profiles as rp
    join std_person_keys as k using (record_id)
    where rp.cluster_id in (
        select cluster_l from dates_agree union select cluster_r from dates_agree)
),

two_people as (
    -- so is a pair whose two sides already hold different identifiers of one system (two
    -- UPNs, two NINOs): the sources say two people, as the chaining check takes them to.
    -- At 200,000 households 10 of 7,269 such queued pairs were one person, against
    -- 1,856 of the other 2,217
    select distinct p.unique_id_l, p.unique_id_r
    from dates_agree as p
    join cluster_keys as a on a.cluster_id = p.cluster_l
    join cluster_keys as b
        on b.cluster_id = p.cluster_r and b.key_type = a.key_type and b.key_value <> a.key_value
),

reviewable as (
    select * exclude (cluster_l, cluster_r)
    from dates_agree
    anti join two_people using (unique_id_l, unique_id_r)
),

split_pairs as (
    -- the queued links a split took out, with the draft cluster they were taken from
    select c.*, d.cluster_id as draft_cluster_id, s.reason as cluster_reason
    from reviewable as c
    semi join split_out as o using (unique_id_l, unique_id_r)
    join link_cluster_draft as d on d.record_id = c.unique_id_l
    join link_splits as s on s.cluster_id = d.cluster_id
),

split_members as (
    select p.unique_id_l, p.unique_id_r, d.record_id
    from split_pairs as p
    join link_cluster_draft as d on d.cluster_id = p.draft_cluster_id
),

other_dobs as (
    -- the cluster's dates of birth that one side of the pair could not have been recorded
    -- with: a queued pair's own two agree (dates_agree), so the split's conflict is there
    select m.unique_id_l, m.unique_id_r,
        count(distinct r.date_of_birth) as n_dobs,
        string_agg(distinct strftime(r.date_of_birth, '%Y-%m-%d'), ', '
            order by strftime(r.date_of_birth, '%Y-%m-%d')) as dobs
    from split_members as m
    join std_person_records as r using (record_id)
    join link_profiles as l on l.unique_id = m.unique_id_l
    join link_profiles as rr on rr.unique_id = m.unique_id_r
    where not (dob_compatible(r.date_of_birth, l.dob) and dob_compatible(r.date_of_birth, rr.dob))
    group by m.unique_id_l, m.unique_id_r
),

other_keys as (
    -- the identifier systems of which the cluster holds two values
    select unique_id_l, unique_id_r,
        string_agg(case key_type
            when 'upn' then 'UPNs' when 'nino' then 'NINOs'
            when 'police_ref' then 'police references' when 'asb_ref' then 'ASB references'
            else key_type end, ', ' order by key_type) as systems
    from (
        select m.unique_id_l, m.unique_id_r, k.key_type
        from split_members as m
        join std_person_keys as k using (record_id)
        group by m.unique_id_l, m.unique_id_r, k.key_type
        having count(distinct k.key_value) > 1
    )
    group by unique_id_l, unique_id_r
),

other_rejections as (
    -- a pair in the cluster a person decided was two people
    select distinct m.unique_id_l, m.unique_id_r
    from split_members as m
    join link_candidates as x on x.unique_id_l = m.record_id and x.band = 'rejected'
    join link_cluster_draft as d on d.record_id = x.unique_id_r
    join split_pairs as p
        on p.unique_id_l = m.unique_id_l and p.unique_id_r = m.unique_id_r
    where d.cluster_id = p.draft_cluster_id
),

waiting as (
    select c.*, 'uncertain' as reason
    from reviewable as c
    where c.band = 'review'
    union all
    -- why the cluster was split, as it bears on this pair: what its other records hold
    -- (the cluster's own reason when none of that is found beside the pair)
    select p.* exclude (draft_cluster_id, cluster_reason),
        'split from a cluster: ' || coalesce(nullif(concat_ws('; ',
            case when b.dobs is not null then 'its other records give '
                || case when b.n_dobs = 1 then 'date of birth ' else 'dates of birth ' end
                || b.dobs end,
            case when k.systems is not null then 'its records hold two ' || k.systems end,
            case when j.unique_id_l is not null then 'a person rejected another pair in it'
                end), ''), p.cluster_reason)
    from split_pairs as p
    left join other_dobs as b using (unique_id_l, unique_id_r)
    left join other_keys as k using (unique_id_l, unique_id_r)
    left join other_rejections as j using (unique_id_l, unique_id_r)
),

queued as (
    -- the identities in the queue: only these are shown side by side
    select unique_id_l as unique_id from waiting
    union
    select unique_id_r from waiting
),

sources as (
    select p.unique_id, string_agg(rp.record_id, ' ' order by rp.record_id) as records
    from queued as q
    join link_profiles as p using (unique_id)
    join link_record_profiles as rp using (cluster_id, profile_key)
    group by p.unique_id
),

side as (
    select
        p.unique_id,
        r.forename,
        r.surname,
        r.date_of_birth,
        r.address,
        r.postcode,
        s.records
    from link_profiles as p
    join std_person_records as r on r.record_id = p.unique_id
    join sources as s using (unique_id)
),

final as (
    select
        w.profile_key_l,
        w.profile_key_r,
        -- the record standing for each identity (its person's family sets the priority)
        w.unique_id_l as record_id_l,
        w.unique_id_r as record_id_r,
        w.reason,
        w.match_probability,
        w.match_weight,
        -- each field's share of the weight (log2 Bayes factor): what agreed, what did not
        w.mw_forename,
        w.mw_surname + w.mw_tf_adj_surname as mw_surname,
        w.mw_dob,
        w.mw_location,
        l.forename as forename_l,
        r.forename as forename_r,
        l.surname as surname_l,
        r.surname as surname_r,
        l.date_of_birth as date_of_birth_l,
        r.date_of_birth as date_of_birth_r,
        l.address as address_l,
        r.address as address_r,
        l.postcode as postcode_l,
        r.postcode as postcode_r,
        l.records as records_l,
        r.records as records_r
    from waiting as w
    join side as l on l.unique_id = w.unique_id_l
    join side as r on r.unique_id = w.unique_id_r
    order by w.match_probability desc, w.profile_key_l, w.profile_key_r
)

select * from final

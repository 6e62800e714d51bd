-- review_queue: one row per pair of identities waiting for a person, side by side:
-- pairs whose dates of birth a recording error could explain, that the model scored in
-- the uncertain band or linked before link_splits took the link out of a cluster. A reviewer
-- copies rows to match_decisions.csv with a decision (match or no_match) and the next
-- run applies it.
with split_out as (
    select e.record_id_l as unique_id_l, e.record_id_r as unique_id_r
    from link_edges_draft as e
    anti join link_edges_final as f using (record_id_l, record_id_r)
    where e.method = 'probabilistic'
),

reviewable as (
    -- a pair whose dates of birth no recording error explains is left out of the queue
    -- (it stays in link_candidates): at one address, with one surname, such pairs are
    -- relatives, and they outnumbered the reviewable pairs seven to one among uncertain
    -- pairs and twenty to one among links a split took out
    select c.*
    from link_candidates as c
    join link_profiles as l on l.unique_id = c.unique_id_l
    join link_profiles as r on r.unique_id = c.unique_id_r
    where dob_compatible(l.dob, r.dob)
),

waiting as (
    select c.*, 'uncertain' as reason
    from reviewable as c
    where c.band = 'review'
    union all
    select c.*, 'split from a cluster (' || s.reason || ')'
    from reviewable as c
    semi join split_out as o using (unique_id_l, unique_id_r)
    join link_cluster_draft as d on d.record_id = c.unique_id_l
    join link_splits as s on s.cluster_id = d.cluster_id
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

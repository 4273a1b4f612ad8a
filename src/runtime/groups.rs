//! The groups whose leader's ladder runs or waits now: which key leads to which incident,
//! every member's incident (for the briefing) and which members have resolved (the group's
//! call stops only when all have). The store keeps the same groups durably
//! (`incident_groups`); a restart rebuilds a resumed leader's group from it.

use crate::incident::Incident;
use crate::store::IncidentId;
use std::collections::{HashMap, HashSet};

struct LiveGroup {
    leader: IncidentId,
    /// The leader first, then in joining order.
    members: Vec<(IncidentId, Incident)>,
    resolved: HashSet<String>,
    /// Bumped on every join: the ladder re-renders its briefing when it changed.
    version: u64,
}

/// What a resolved incident means for its group.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Not in a running group: stop its own ladder, if it has one.
    Alone,
    /// Others still fire: the group's call goes on.
    Others { leader: IncidentId, firing: usize },
    /// The last one: stop the group's ladder (the leader's).
    Last { leader: IncidentId },
}

#[derive(Default)]
pub struct Groups {
    by_key: HashMap<String, LiveGroup>,
    key_of: HashMap<String, String>,
}

impl Groups {
    /// The leader of the running group `key`.
    pub fn leader(&self, key: &str) -> Option<IncidentId> {
        self.by_key.get(key).map(|g| g.leader.clone())
    }

    /// A new group led by `leader` (its ladder is about to start or resume); `members` are
    /// the others already in it (a restart), with whether each resolved.
    pub fn open(
        &mut self,
        key: &str,
        leader: (IncidentId, Incident),
        members: Vec<(IncidentId, Incident, bool)>,
    ) {
        let mut g = LiveGroup {
            leader: leader.0.clone(),
            members: vec![leader.clone()],
            resolved: HashSet::new(),
            version: 1,
        };
        self.key_of.insert(leader.0.to_string(), key.to_string());
        for (id, i, resolved) in members {
            if resolved {
                g.resolved.insert(id.to_string());
            }
            self.key_of.insert(id.to_string(), key.to_string());
            g.members.push((id, i));
        }
        self.by_key.insert(key.to_string(), g);
    }

    /// `member` joins the running group `key`; false if there is none.
    pub fn join(&mut self, key: &str, member: IncidentId, incident: Incident) -> bool {
        let Some(g) = self.by_key.get_mut(key) else {
            return false;
        };
        self.key_of.insert(member.to_string(), key.to_string());
        g.members.push((member, incident));
        g.version += 1;
        true
    }

    /// The incidents a leader's call is about (those still firing), and the group's version;
    /// `None` when `leader` leads no running group.
    pub fn incidents(&self, leader: &IncidentId) -> Option<(u64, Vec<Incident>)> {
        let key = self.key_of.get(leader.as_str())?;
        let g = self.by_key.get(key).filter(|g| g.leader == *leader)?;
        let list = g
            .members
            .iter()
            .filter(|(id, _)| !g.resolved.contains(id.as_str()) || *id == g.leader)
            .map(|(_, i)| i.clone())
            .collect();
        Some((g.version, list))
    }

    /// `id` resolved.
    pub fn resolve(&mut self, id: &IncidentId) -> Resolution {
        let Some(g) = self
            .key_of
            .get(id.as_str())
            .and_then(|k| self.by_key.get_mut(k))
        else {
            return Resolution::Alone;
        };
        if g.members.len() == 1 {
            // A group of one is just its own ladder.
            return Resolution::Alone;
        }
        g.resolved.insert(id.to_string());
        let firing = g
            .members
            .iter()
            .filter(|(m, _)| !g.resolved.contains(m.as_str()))
            .count();
        if firing == 0 {
            Resolution::Last {
                leader: g.leader.clone(),
            }
        } else {
            Resolution::Others {
                leader: g.leader.clone(),
                firing,
            }
        }
    }

    /// The leader's ladder ended: the group closes (a later incident starts a new one).
    /// Returns the other members.
    pub fn close(&mut self, leader: &IncidentId) -> Vec<IncidentId> {
        let Some(key) = self.key_of.get(leader.as_str()).cloned() else {
            return Vec::new();
        };
        if self.by_key.get(&key).is_none_or(|g| g.leader != *leader) {
            return Vec::new();
        }
        let g = self.by_key.remove(&key).expect("checked above");
        for (m, _) in &g.members {
            self.key_of.remove(m.as_str());
        }
        g.members
            .into_iter()
            .map(|(m, _)| m)
            .filter(|m| m != leader)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> IncidentId {
        let tail = s.to_uppercase().repeat(6);
        format!("inc_0000000000{tail}").parse().expect("id shape")
    }

    #[test]
    fn the_group_call_stops_only_when_every_member_resolved() {
        let mut g = Groups::default();
        g.open("k", (id("a"), Incident::default()), Vec::new());
        assert!(g.join("k", id("b"), Incident::default()));
        assert!(g.join("k", id("c"), Incident::default()));
        assert_eq!(
            g.incidents(&id("a")).map(|(v, l)| (v, l.len())),
            Some((3, 3))
        );
        assert_eq!(
            g.resolve(&id("a")),
            Resolution::Others {
                leader: id("a"),
                firing: 2
            }
        );
        assert_eq!(
            g.resolve(&id("b")),
            Resolution::Others {
                leader: id("a"),
                firing: 1
            }
        );
        assert_eq!(g.resolve(&id("c")), Resolution::Last { leader: id("a") });
        assert_eq!(g.close(&id("a")), vec![id("b"), id("c")]);
        assert_eq!(g.leader("k"), None);
        assert_eq!(g.resolve(&id("b")), Resolution::Alone);
        assert!(!g.join("k", id("d"), Incident::default()), "closed");
    }

    #[test]
    fn a_group_of_one_resolves_like_a_lone_incident() {
        let mut g = Groups::default();
        g.open("k", (id("a"), Incident::default()), Vec::new());
        assert_eq!(g.resolve(&id("a")), Resolution::Alone);
    }

    #[test]
    fn a_restored_group_remembers_who_had_resolved() {
        let mut g = Groups::default();
        let members = vec![
            (id("b"), Incident::default(), true),
            (id("c"), Incident::default(), false),
        ];
        g.open("k", (id("a"), Incident::default()), members);
        assert_eq!(g.incidents(&id("a")).map(|(_, l)| l.len()), Some(2));
        assert_eq!(
            g.resolve(&id("a")),
            Resolution::Others {
                leader: id("a"),
                firing: 1
            }
        );
        assert_eq!(g.resolve(&id("c")), Resolution::Last { leader: id("a") });
    }
}

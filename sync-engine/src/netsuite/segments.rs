//! Per-location classification of the inventory transactions the engine posts without a source
//! order: OneWorld `subsidiary`, `department` and `class`. Fulfilments and receipts take these
//! from their order; inventory adjustments, transfers and status changes name them, and a
//! OneWorld account refuses them without a subsidiary.

use std::collections::HashMap;

use sync_core::{LocationId, NetSuiteId};

/// The segments of one location's inventory transactions (internal ids); every one optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segments {
    /// `subsidiary` (OneWorld accounts need one).
    pub subsidiary: Option<NetSuiteId>,
    /// `department`.
    pub department: Option<NetSuiteId>,
    /// `class`.
    pub class: Option<NetSuiteId>,
}

impl Segments {
    /// Whether no segment is set.
    pub fn is_empty(&self) -> bool {
        self.subsidiary.is_none() && self.department.is_none() && self.class.is_none()
    }
}

/// [`Segments`] by NetSuite location. A location without an entry posts without segments.
///
/// ```
/// use sync_engine::netsuite::{LocationSegments, Segments};
///
/// let mut segments = LocationSegments::new();
/// segments.insert(
///     "1".into(),
///     Segments { subsidiary: Some("3".into()), ..Segments::default() },
/// );
/// assert_eq!(segments.get(&"1".into()).unwrap().subsidiary, Some("3".into()));
/// assert!(segments.get(&"2".into()).is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationSegments {
    by_location: HashMap<LocationId, Segments>,
}

impl LocationSegments {
    /// No segments for any location.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the segments of a location (empty segments remove its entry).
    pub fn insert(&mut self, location: LocationId, segments: Segments) {
        if segments.is_empty() {
            self.by_location.remove(&location);
        } else {
            self.by_location.insert(location, segments);
        }
    }

    /// The segments of a location, if it has any.
    pub fn get(&self, location: &LocationId) -> Option<&Segments> {
        self.by_location.get(location)
    }

    /// Whether no location has segments.
    pub fn is_empty(&self) -> bool {
        self.by_location.is_empty()
    }
}

impl FromIterator<(LocationId, Segments)> for LocationSegments {
    fn from_iter<I: IntoIterator<Item = (LocationId, Segments)>>(iter: I) -> Self {
        let mut out = LocationSegments::new();
        for (location, segments) in iter {
            out.insert(location, segments);
        }
        out
    }
}

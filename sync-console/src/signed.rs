//! Who is signed in on a request: the person, their session and its form token. Read from a
//! request by the console's extractor (see `app.rs`); shown by every page's frame.

use crate::auth::User;
use crate::session::Session;

/// A signed-in person, with the CSRF token of their forms. Read from a request, it answers a
/// redirect to the sign-in page when there is no valid session.
pub(crate) struct Signed {
    pub user: User,
    pub session: Session,
    pub csrf: String,
}

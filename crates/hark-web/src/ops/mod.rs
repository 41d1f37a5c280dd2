//! The operations the API and the pages both call, so that a page never reaches into another
//! page or into the API: taking a change to an answer, acting on a case, inviting, and the
//! dashboard's figures.

pub(crate) mod answer;
pub(crate) mod cases;
pub(crate) mod filters;
pub(crate) mod insights;
pub(crate) mod outreach;
pub(crate) mod privacy;
pub(crate) mod sharing;
pub(crate) mod surveys;
pub(crate) mod taxonomy;
pub(crate) mod themes;
pub(crate) mod timeline;
pub(crate) mod webhooks;

//! The case workflow as a pure function: which status may follow which, and which
//! transitions need a comment. `received → in review → needs information ⇄ in review →
//! approved | rejected → completed`; a received case can also be decided (or sent back
//! with a Rückfrage) in one step, without passing through "in review" — a reviewer
//! who opens a complete case decides it at once. The store applies a transition only if the case is
//! still in the status the reviewer saw (compare-and-set), so two reviewers cannot both
//! decide one case.

use sync_protocol::api::CaseStatus;

/// The longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// The statuses a case in `from` may move to, in the order offered.
pub fn next(from: CaseStatus) -> &'static [CaseStatus] {
    use CaseStatus::*;
    match from {
        Received => &[InReview, Approved, Rejected, NeedsInformation],
        InReview => &[NeedsInformation, Approved, Rejected],
        NeedsInformation => &[InReview],
        Approved | Rejected => &[Completed],
        Completed => &[],
    }
}

/// Whether `from → to` is a transition of the workflow.
pub fn allowed(from: CaseStatus, to: CaseStatus) -> bool {
    next(from).contains(&to)
}

/// Whether moving into `to` needs a comment (the clerk and citizen must learn what is
/// missing, or why it was refused).
pub fn needs_comment(to: CaseStatus) -> bool {
    matches!(to, CaseStatus::NeedsInformation | CaseStatus::Rejected)
}

/// What is wrong with a comment, if anything: too long, or control characters other
/// than line breaks and tabs.
pub fn comment_problem(comment: &str) -> Option<CommentProblem> {
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Some(CommentProblem::TooLong);
    }
    if comment
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Some(CommentProblem::ControlCharacters);
    }
    None
}

/// Why a comment is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentProblem {
    /// Longer than [`MAX_COMMENT_CHARS`].
    TooLong,
    /// Contains control characters.
    ControlCharacters,
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    const ALL: [CaseStatus; 6] = [
        Received,
        InReview,
        NeedsInformation,
        Approved,
        Rejected,
        Completed,
    ];

    #[test]
    fn the_workflow_allows_exactly_its_transitions() {
        let expected = [
            (Received, InReview),
            (Received, Approved),
            (Received, Rejected),
            (Received, NeedsInformation),
            (InReview, NeedsInformation),
            (InReview, Approved),
            (InReview, Rejected),
            (NeedsInformation, InReview),
            (Approved, Completed),
            (Rejected, Completed),
        ];
        for from in ALL {
            for to in ALL {
                assert_eq!(
                    allowed(from, to),
                    expected.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }

    #[test]
    fn comments_are_limited_in_length_and_characters() {
        assert_eq!(
            comment_problem("Wohnungsgeberbestätigung fehlt.\nBitte nachreichen."),
            None
        );
        assert_eq!(comment_problem(&"ä".repeat(MAX_COMMENT_CHARS)), None);
        assert_eq!(
            comment_problem(&"ä".repeat(MAX_COMMENT_CHARS + 1)),
            Some(CommentProblem::TooLong)
        );
        assert_eq!(
            comment_problem("a\u{0}b"),
            Some(CommentProblem::ControlCharacters)
        );
    }
}

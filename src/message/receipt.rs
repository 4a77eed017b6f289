//! A receipt that travels with a message taken from a durable transport, and with every message
//! derived from it, until the last of them is done with: published to the next durable edge,
//! or handled by a node that produces nothing further. What the receipt does when its last copy
//! goes (a JetStream acknowledgement) belongs to the transport that issued it; a message never
//! serialises its receipt, and copies kept for people to look at (histories) carry none.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// What a transport puts in a receipt: its `Drop` acknowledges the delivery (or gives it back
/// when abandoned).
pub trait ReceiptToken: Any + Send + Sync {
    /// Some message carrying this receipt was not handled (discarded at a stop, or could not be
    /// passed on): the delivery is given back for another try instead of acknowledged.
    fn abandon(&self);
    /// The token as `Any`, for the transport that made it.
    fn as_any(&self) -> &dyn Any;
}

/// A shared token: the transport's acknowledgement runs when the last copy is dropped. One
/// pointer wide (the token is boxed once), so a message without one stays small.
#[derive(Clone, Default)]
pub struct Receipt(Option<Arc<Box<dyn ReceiptToken>>>);

impl Receipt {
    /// A receipt holding `token`; the token's `Drop` is the acknowledgement.
    pub fn new(token: Box<dyn ReceiptToken>) -> Self {
        Receipt(Some(Arc::new(token)))
    }

    /// Whether the message came from a durable transport.
    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }

    /// The token, for the transport that made it.
    pub fn token(&self) -> Option<&dyn ReceiptToken> {
        self.0.as_deref().map(|b| &**b)
    }

    /// Marks the delivery as not handled (see [`ReceiptToken::abandon`]).
    pub fn abandon(&self) {
        if let Some(token) = &self.0 {
            token.abandon();
        }
    }
}

/// Receipts never make two messages different.
impl PartialEq for Receipt {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_some() {
            "Receipt"
        } else {
            "NoReceipt"
        })
    }
}

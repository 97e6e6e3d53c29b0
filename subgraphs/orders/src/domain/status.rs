//! The life of an order: `PENDING → CONFIRMED → SHIPPED → DELIVERED`, plus `CANCELLED` and
//! `REJECTED`. Who may make which move is decided here, once.

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "OrderStatus")]
pub enum Status {
    /// Written, its stock not yet reserved (the saga is running, or a crash left it to the sweep).
    Pending,
    /// Stock reserved and the order accepted.
    Confirmed,
    Shipped,
    Delivered,
    /// Cancelled by its owner or an admin before shipping; its units went back to stock.
    Cancelled,
    /// Not accepted: stock was short, or products could not be reached in time.
    Rejected,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Pending, Status::Confirmed, Status::Shipped, Status::Delivered, Status::Cancelled, Status::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Confirmed => "CONFIRMED",
            Status::Shipped => "SHIPPED",
            Status::Delivered => "DELIVERED",
            Status::Cancelled => "CANCELLED",
            Status::Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether an admin may move an order from `self` to `to`. Pending and rejected orders
    /// belong to the saga; delivered and cancelled ones are done.
    pub fn admin_may_move(self, to: Status) -> bool {
        matches!(
            (self, to),
            (Status::Confirmed, Status::Shipped)
                | (Status::Shipped, Status::Delivered)
                | (Status::Confirmed, Status::Cancelled)
        )
    }

    /// Whether the owner may cancel: before it ships.
    pub fn owner_may_cancel(self) -> bool {
        matches!(self, Status::Pending | Status::Confirmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_forward_moves_and_cancels_before_shipping_are_allowed() {
        use Status::*;
        let allowed: Vec<(Status, Status)> = Status::ALL
            .into_iter()
            .flat_map(|a| Status::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.admin_may_move(*b))
            .collect();
        assert_eq!(allowed, [(Confirmed, Shipped), (Confirmed, Cancelled), (Shipped, Delivered)]);
        assert!(Pending.owner_may_cancel() && Confirmed.owner_may_cancel());
        assert!(!Shipped.owner_may_cancel() && !Rejected.owner_may_cancel() && !Cancelled.owner_may_cancel());
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}

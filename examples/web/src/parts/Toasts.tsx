import { useSubscription } from "@apollo/client/react";
import { useState } from "react";
import { graphql } from "../gql";

const NotificationAdded = graphql(`
  subscription NotificationAdded {
    notificationAdded {
      id
      kind
      title
      body
      createdAt
      order { id status }
    }
  }
`);

type Toast = { id: string; title: string; body: string; kind: string };

/** A toast for each notification as it is created, over the websocket. A notification about
 * an order carries `order { id status }`: Apollo merges it into the cached order, so an open
 * order page shows the new status without asking; its history is read again. */
export function Toasts() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  useSubscription(NotificationAdded, {
    onData: ({ data, client }) => {
      const n = data.data?.notificationAdded;
      if (!n) return;
      setToasts((t) => [...t.slice(-3), { id: n.id, title: n.title, body: n.body, kind: n.kind }]);
      setTimeout(() => setToasts((t) => t.filter((x) => x.id !== n.id)), 10_000);
      if (n.order) void client.refetchQueries({ include: ["OrderDetail", "MyOrders"] });
    },
  });
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className="toast" role="status" data-kind={t.kind}>
          <strong>{t.title}</strong>
          <p>{t.body}</p>
          <button type="button" aria-label="Dismiss" onClick={() => setToasts((all) => all.filter((x) => x.id !== t.id))}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

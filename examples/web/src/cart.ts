// The cart: kept in localStorage so it survives a reload and sign-in. Prices here are only for
// display; the order is priced by the catalogue when it is placed, never from the client.
import { useSyncExternalStore } from "react";

export type Money = { amount: number; currency: string };
export type Line = { productId: string; name: string; price: Money; quantity: number };

const KEY = "tessera.cart";
const listeners = new Set<() => void>();
let lines: Line[] = load();

function load(): Line[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

function save(next: Line[]) {
  lines = next.filter((l) => l.quantity > 0);
  localStorage.setItem(KEY, JSON.stringify(lines));
  listeners.forEach((l) => l());
}

export function add(line: Omit<Line, "quantity">, quantity = 1) {
  const found = lines.find((l) => l.productId === line.productId);
  save(found ? lines.map((l) => (l === found ? { ...l, quantity: l.quantity + quantity } : l)) : [...lines, { ...line, quantity }]);
}

export function setQuantity(productId: string, quantity: number) {
  save(lines.map((l) => (l.productId === productId ? { ...l, quantity: Math.max(0, quantity) } : l)));
}

export function clear() {
  save([]);
}

export function useCart(): Line[] {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => lines,
  );
}

/** Minor units as a person reads them, in the currency's own number of decimals. */
export function formatMoney(m: Money): string {
  // An order refused before it was priced (sold out) has no currency yet.
  if (!/^[A-Z]{3}$/.test(m.currency)) return "—";
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(m.amount / 10 ** digits);
}

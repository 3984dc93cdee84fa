// #/store: the store dialect through /store/api/ on this origin: items, orders with their
// customer links (remaining downloads, expiry), and the downloads log filtered by item and order.
// Customer links (/get/GUID) open on this origin too: nginx passes /get/ and /permalink/ on the
// media server to the store dialect, which counts the download and hands the bytes to nginx.

import { store } from "../api.js";
import { explain } from "../errors.js";
import { badge, bytes, h, messageBox, section, showMessage, table, timeEl, viewHead } from "../dom.js";

const LIST = "per_page=100";

function text(node, name) {
  const child = [...node.children].find((c) => c.tagName === name);
  return child ? child.textContent.trim() : "";
}

function children(node, listName) {
  const list = [...node.children].find((c) => c.tagName === listName);
  return list ? [...list.children] : [];
}

export function render(main) {
  let items = [];
  let orders = [];
  const refresh = h("button.button.button-quiet#store-refresh", { type: "button" }, "Refresh");
  const account = h("div#store-account", {});
  const itemsBox = h("div#store-items", {});
  const ordersBox = h("div#store-orders", {});
  const itemFilter = h("select#downloads-item", {}, h("option", { value: "" }, "All items"));
  const orderFilter = h("select#downloads-order", {}, h("option", { value: "" }, "All orders"));
  const downloadsBox = h("div#store-downloads", {});
  const message = messageBox("store-message");
  const downloadsMessage = messageBox("downloads-message");

  main.append(
    viewHead("Store", refresh),
    message,
    section("Account", account),
    section("Items", itemsBox),
    section("Orders", ordersBox),
    section("Downloads",
      h("div.row", {}, h("div.field", {}, h("label", { for: "downloads-item" }, "Item"), itemFilter),
        h("div.field", {}, h("label", { for: "downloads-order" }, "Order"), orderFilter)),
      downloadsMessage, downloadsBox));

  function customerURL(path) {
    return new URL(path, location.href).href;
  }

  async function load() {
    showMessage(message, "");
    let accountDoc;
    let itemsDoc;
    let ordersDoc;
    try {
      [accountDoc, itemsDoc, ordersDoc] = await Promise.all([
        store("GET", "account.xml"), store("GET", `items.xml?${LIST}`), store("GET", `orders.xml?${LIST}`)]);
    } catch (error) {
      showMessage(message, explain(error), "error");
      return;
    }
    const a = accountDoc.documentElement;
    account.replaceChildren(h("dl.details", {},
      h("dt", {}, "Name"), h("dd", {}, text(a, "name")),
      h("dt", {}, "Email"), h("dd", {}, text(a, "email") || "—"),
      h("dt", {}, "Order links expire after"), h("dd", {}, `${text(a, "order_expiration_in_hours")} hours`),
      h("dt", {}, "Downloads per item"), h("dd", {}, text(a, "download_limit_per_item"))));
    items = [...itemsDoc.documentElement.children];
    orders = [...ordersDoc.documentElement.children];
    drawItems();
    drawOrders();
    fillFilters();
    await loadDownloads();
  }

  function drawItems() {
    if (items.length === 0) {
      itemsBox.replaceChildren(h("p.empty", {}, "No items yet."));
      return;
    }
    itemsBox.replaceChildren(table(null, [
      { label: "SKU" }, { label: "Name" }, { label: "File" }, { label: "Size", num: true }, { label: "Price", num: true },
      { label: "Orders", num: true }, { label: "Downloads", num: true },
    ], items.map((item) => [
      h("span.mono", {}, text(item, "sku")), text(item, "name"), text(item, "filename") || "—",
      text(item, "size_bytes") ? bytes(text(item, "size_bytes")) : "—", text(item, "price") || "—",
      text(item, "order_count"), text(item, "download_count"),
    ]), { id: "items-table" }));
  }

  function drawOrders() {
    if (orders.length === 0) {
      ordersBox.replaceChildren(h("p.empty", {}, "No orders yet."));
      return;
    }
    ordersBox.replaceChildren(...orders.map((order) => {
      const id = text(order, "id");
      const expiry = text(order, "expiration_date");
      const expired = expiry && new Date(expiry) < new Date();
      const customer = [text(order, "first_name"), text(order, "last_name")].filter(Boolean).join(" ");
      return h("article.order", { dataset: { order: id } },
        h("h3", {}, `Order ${id}`, text(order, "title") ? ` · ${text(order, "title")}` : ""),
        h("dl.details", {},
          h("dt", {}, "Customer"), h("dd", {}, customer || "—", text(order, "email") ? ` <${text(order, "email")}>` : ""),
          h("dt", {}, "Expires"), h("dd", {}, expiry ? [timeEl(expiry), expired ? [" ", badge("expired")] : null] : "never"),
          h("dt", {}, "Downloads"), h("dd", {}, `${text(order, "download_count")} (limit ${text(order, "download_limit") || "none"} per item)`)),
        table(null, [{ label: "Item" }, { label: "Customer link" }, { label: "Remaining", num: true }, { label: "Downloads", num: true }],
          children(order, "order_items").map((oi) => {
            const link = customerURL(text(oi, "link"));
            return [
              h("span", {}, text(oi, "item_name") || text(oi, "sku"), h("span.small.muted", {}, ` (${text(oi, "sku")})`)),
              h("a.linkish.customer-link", { href: link, dataset: { guid: text(oi, "guid") }, rel: "noopener" }, link),
              h("span.remaining", { dataset: { guid: text(oi, "guid") } }, text(oi, "downloads_remaining")),
              text(oi, "download_count"),
            ];
          })));
    }));
  }

  function fillFilters() {
    const keep = (select, values, label) => {
      const current = select.value;
      select.replaceChildren(h("option", { value: "" }, label),
        ...values.map(([value, name]) => h("option", { value, selected: value === current }, name)));
    };
    keep(itemFilter, items.map((i) => [text(i, "sku"), `${text(i, "sku")} · ${text(i, "name")}`]), "All items");
    keep(orderFilter, orders.map((o) => [text(o, "id"), `Order ${text(o, "id")}`]), "All orders");
  }

  async function loadDownloads() {
    const sku = itemFilter.value;
    const order = orderFilter.value;
    const path = order ? `orders/${encodeURIComponent(order)}/downloads.xml?${LIST}`
      : sku ? `items/${encodeURIComponent(sku)}/downloads.xml?${LIST}` : `downloads.xml?${LIST}`;
    let doc;
    try {
      doc = await store("GET", path);
    } catch (error) {
      showMessage(downloadsMessage, explain(error), "error");
      return;
    }
    showMessage(downloadsMessage, "");
    let rows = [...doc.documentElement.children];
    if (order && sku) rows = rows.filter((d) => text(d, "item_sku") === sku);
    downloadsBox.replaceChildren(rows.length === 0 ? h("p.empty", {}, "No downloads match.") : table(null, [
      { label: "When" }, { label: "Item" }, { label: "Order" }, { label: "File" }, { label: "Address" }, { label: "Size", num: true },
    ], rows.map((d) => [
      timeEl(text(d, "downloaded_at")), h("span.mono", {}, text(d, "item_sku")), text(d, "order_id") || "permalink",
      text(d, "filename"), text(d, "ip_address"), bytes(text(d, "size_bytes")),
    ]), { id: "downloads-table" }));
  }

  itemFilter.addEventListener("change", loadDownloads);
  orderFilter.addEventListener("change", loadDownloads);
  refresh.addEventListener("click", load);
  load();
}

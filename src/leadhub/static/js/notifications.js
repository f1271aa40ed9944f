// The bell in the header: its unread count follows `notification_created` pushes live.
(() => {
  "use strict";

  const NAMESPACE = "/facebook-leads";

  function show(count) {
    const badge = document.getElementById("notification-count");
    if (!badge) return;
    const unread = Math.max(0, Number(count) || 0);
    badge.dataset.unread = String(unread);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.classList.toggle("d-none", unread === 0);
  }

  async function refresh(bell) {
    try {
      const response = await fetch(bell.dataset.countUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) show((await response.json()).unread);
    } catch (error) {
      // offline: the next push or page load corrects the count
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const bell = document.getElementById("notification-bell");
    if (!bell || typeof window.io !== "function") return;
    // The page's one connection (realtime.js may have opened it already).
    window.leadhubSocket = window.leadhubSocket || window.io(NAMESPACE, { withCredentials: true });
    const socket = window.leadhubSocket;
    socket.on("notification_created", (payload) => show(payload && payload.unread));
    socket.io.on("reconnect", () => refresh(bell));
  });
})();

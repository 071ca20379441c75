// Comments without page reloads. Without this script the form still works: plain POST, a
// "check and post" step, and a status page. With it: a ticket is fetched when the reader starts
// writing, the comment is sent with fetch, retries reuse the same ticket (so nothing is stored
// twice), and the reader's text is never cleared unless the server has stored it.
(function () {
  "use strict";
  var form = document.getElementById("comment-form");
  if (!form || !window.fetch || !window.FormData) return;
  var status = form.querySelector(".comment-form__status");
  var submit = form.querySelector("button[type=submit]");
  var cancel = form.querySelector(".comment-form__cancel");
  var title = form.querySelector(".comment-form__title");
  var home = form.parentNode, homeNext = form.nextSibling, homeTitle = title.textContent;
  var ticketReady = null;

  function say(text) { status.textContent = text; }

  function fetchTicket() {
    ticketReady = fetch(form.dataset.ticketUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.ok) return r.json();
        // A refusal the server explains (the article was unpublished) is shown as it says.
        return r.json().then(function (data) {
          var refused = new Error(data.message || "ticket"); refused.refused = !!data.message; throw refused;
        }, function () { throw new Error("ticket"); });
      })
      .then(function (data) {
        form.elements.ticket.value = data.ticket;
        var token = form.elements.csrfmiddlewaretoken;
        if (!token) {
          token = document.createElement("input");
          token.type = "hidden"; token.name = "csrfmiddlewaretoken";
          form.appendChild(token);
        }
        token.value = data.csrf_token;
        return data;
      });
    ticketReady.catch(function () { ticketReady = null; });
    return ticketReady;
  }

  form.addEventListener("focusin", function () { if (!ticketReady && !form.elements.ticket.value) fetchTicket(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submit.disabled) return;  // a double click sends once
    submit.disabled = true;
    say("Posting…");
    (ticketReady || fetchTicket()).then(function () {
      return fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value }
      });
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      var data = result.data;
      if (result.ok) {
        var done = document.createElement("div");
        done.className = "comment-form__done";
        done.setAttribute("role", "status");
        done.innerHTML = "<p></p><p><a></a></p>";
        done.firstChild.textContent = data.message;
        var link = done.querySelector("a");
        link.href = data.delete_url; link.textContent = "Delete this comment";
        form.replaceWith(done);
        return;
      }
      if (data.status === "retry") { ticketReady = null; form.elements.ticket.value = ""; fetchTicket(); }
      if (data.errors) {
        var first = Object.keys(data.errors)[0];
        say(data.errors[first].join(" "));
        if (form.elements[first]) form.elements[first].focus();
      } else {
        say(data.message || "Your comment could not be posted. Your text is still here.");
      }
      submit.disabled = false;
    }).catch(function (error) {
      say(error && error.refused ? error.message + " Your text is still here."
        : "We could not reach the server. Your text is still here: try again in a moment.");
      submit.disabled = false;  // the same ticket is reused, so a retry cannot post twice
    });
  });

  document.addEventListener("click", function (event) {
    var reply = event.target.closest("[data-reply]");
    if (!reply) return;
    event.preventDefault();
    var item = document.getElementById("comment-" + reply.dataset.reply);
    item.querySelector(".comment__inner").after(form);
    form.elements.parent.value = reply.dataset.reply;
    title.textContent = "Reply to " + reply.dataset.replyName;
    cancel.hidden = false;
    form.elements.body.focus();
  });

  cancel.addEventListener("click", function () {
    home.insertBefore(form, homeNext);
    form.elements.parent.value = "";
    title.textContent = homeTitle;
    cancel.hidden = true;
    form.elements.body.focus();
  });
})();

"""A Streamlit session without a browser: Streamlit's own websocket protocol, as its frontend speaks it.

    session = Session("http://127.0.0.1:8501")
    run = await session.connect("text=hello&model=tweets-4h", timeout=30)  # a page load
    run = await session.rerun({session.ids["text"]: "new sentence"}, timeout=30)  # a widget changed
    run = await session.rerun({}, 30, trigger=session.ids["start"])  # a button clicked
    run = await session.rerun({}, 30, fragment=next(iter(session.auto)))  # a st.fragment(run_every=...) timer

The handshake: a websocket to /_stcore/stream offering the subprotocol "streamlit". The browser lists
its XSRF token second, but the server checks that token only before reading login cookies, so an app
without st.login needs neither the token nor the `_streamlit_xsrf` cookie (no Origin header is
allowed too). The server runs nothing until the client sends a BackMsg `rerun_script` (a ClientState:
the URL's query string, the page, every widget's value); it answers with ForwardMsgs (new_session,
the elements as deltas, page_info_changed when the script edits st.query_params, ...) and ends the
run with script_finished. Like the browser, a Session sends back the page hash and query string the
server last gave it, the values of the widgets it has set, and the hashes of the big elements it has
already received (the server then sends a ref_hash instead of the element again). Timers are the
client's job: a full run announces each fragment's run_every in an auto_rerun message, and the browser
then asks for a rerun of that fragment (fragment_id, is_auto_rerun) every interval; `auto` lists them. On a
fresh server a page waits for the browser to say it has drawn the page before loading its model
(ui.server.model_may_load): `connect` says so too, as a component event.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN  # st.rerun() or a callback: the next run of the chain follows
PAINTED = "_painted"  # the key of ui.server.model_may_load's element


@dataclass
class Run:
    """What one rerun request brought: seconds from sending it to the last script_finished."""

    seconds: float = 0.0
    elements: list = field(default_factory=list)  # Element protos, in arrival order (cached ones resolved)
    errors: list = field(default_factory=list)  # "exception", "error box", "compile error"

    def of(self, kind):
        """The run's elements of this kind ("plotly_chart", "alert", "progress", ...), as their protos."""
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]


class Session:
    """One app session on one websocket. `ids` maps widget keys to the ids the server gave them, `auto` the
    fragments that want a timed rerun to their interval in seconds."""

    def __init__(self, url, page_name=""):
        self.url = url.replace("http", "ws", 1) + "/_stcore/stream"
        self.page_name, self.page_hash, self.query = page_name, "", ""
        self.ws, self.ids, self.values, self.cache, self.auto = None, {}, {}, {}, {}

    async def connect(self, query_string, timeout):
        """Open a new session (as a page load with this query string); the Run of its first script run."""
        await self.close()
        self.page_hash, self.query, self.ids, self.values, self.auto = "", query_string, {}, {}, {}
        t0 = time.perf_counter()
        async with asyncio.timeout(timeout):
            self.ws = await connect(self.url, subprotocols=["streamlit"], max_size=None, close_timeout=2)
        run = await self.rerun({}, timeout - (time.perf_counter() - t0), t0=t0)
        if PAINTED in self.ids:  # the page waits to be drawn: as the browser, say it is
            run = await self.rerun({}, timeout - (time.perf_counter() - t0), event=(PAINTED, "painted"), t0=t0)
        return run

    async def rerun(self, values, timeout, trigger=None, fragment="", t0=None, event=None):
        """Set these widget values ({id: str, bool, int or float}; number_input takes floats), fire the button
        with id `trigger` if given, or a component's event (its key, the event's name), and rerun the page (or
        just `fragment`, as its timer does); wait for the end.

        Raises TimeoutError or websockets' ConnectionClosed; the session is then closed: connect again."""
        self.values.update(values)
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_script_hash, state.page_name = self.query, self.page_hash, self.page_name
        state.fragment_id, state.is_auto_rerun = fragment, bool(fragment)
        for wid, value in self.values.items():
            w = state.widget_states.widgets.add(id=wid)
            kind = {str: "string_value", bool: "bool_value", int: "int_value", float: "double_value"}[type(value)]
            setattr(w, kind, value)
        if trigger:
            state.widget_states.widgets.add(id=trigger, trigger_value=True)
        if event:  # components v2 send their events on one trigger per component: <prefix>_<its id>__events
            events = f"$$STREAMLIT_INTERNAL_KEY_{self.ids[event[0]]}__events"
            state.widget_states.widgets.add(
                id=events, json_trigger_value=json.dumps({"event": event[1], "value": True})
            )
        state.cached_message_hashes.extend(self.cache)
        run, t0 = Run(), t0 or time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                await self.ws.send(msg.SerializeToString())
                while not self._read(ForwardMsg.FromString(await self.ws.recv()), run):
                    pass
        except BaseException:
            await self.close()
            raise
        run.seconds = time.perf_counter() - t0
        return run

    def _read(self, msg, run):
        """Take in one ForwardMsg; True once it ends the run."""
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash
            if not msg.metadata.run.fragment_ids:  # a full run: it announces the timers it still wants
                self.auto.clear()
        elif kind == "navigation":  # the page actually shown (st.navigation): st.rerun() and later runs keep it
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "auto_rerun":
            self.auto[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fragment in msg.stop_auto_rerun.fragment_ids:
                self.auto.pop(fragment, None)
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "ref_hash":
            self._element(self.cache[msg.ref_hash], run)
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            if msg.metadata.cacheable:
                self.cache[msg.hash] = msg.delta.new_element
            self._element(msg.delta.new_element, run)
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
            run.errors.append("compile error")
        return kind == "script_finished" and msg.script_finished != EARLY

    def _element(self, element, run):
        run.elements.append(element)
        kind = element.WhichOneof("type")
        proto = getattr(element, kind)
        if kind == "exception" and not element.exception.is_warning:
            run.errors.append("exception")
        elif kind == "alert" and element.alert.format == Alert.ERROR:
            run.errors.append("error box")
        elif "id" in proto.DESCRIPTOR.fields_by_name and proto.id.startswith("$$ID-"):  # a widget: $$ID-hash-key
            self.ids[proto.id.split("-", 2)[2]] = proto.id

    async def close(self):
        ws, self.ws = self.ws, None
        if ws is not None:
            await ws.close()

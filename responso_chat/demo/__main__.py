"""``python -m responso_chat.demo``: the demo shop with chat, its database and Base stand-in.

Creates (or upgrades) the SQLite database, seeds the shop's users, the demo chat with one
conversation, starts the local Base stand-in with sample orders and the mail catcher (the SMTP
server the chat's e-mails go to) on their own loopback ports, and serves the shop on
http://127.0.0.1:5000 (embedded mode: no Redis, jobs in-process).
"""

from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from responso_chat import migrations
from responso_chat.demo.app import create_app, create_shop_tables
from responso_chat.demo.base_orders import demo_orders, demo_statuses
from responso_chat.demo.base_standin import create_standin_app, serve_standin
from responso_chat.demo.data import seed_demo_chat
from responso_chat.demo.mailcatcher import MailCatcher
from responso_chat.demo.seed import DEMO_LOGINS, seed_shop_users

DEMO_BASE_TOKEN = "demo-base-token-0000"


def demo_mail_settings(catcher: MailCatcher, shop: str) -> dict:
    """The chat's e-mail settings of the demo: sent to ``catcher``, links back to ``shop``;
    a reply the customer has not seen goes out after a minute."""
    return {
        "RESPONSO_CHAT_SMTP_HOST": catcher.host,
        "RESPONSO_CHAT_SMTP_PORT": catcher.port,
        "RESPONSO_CHAT_SMTP_SECURITY": "none",
        "RESPONSO_CHAT_MAIL_FROM_ADDRESS": "support@maison-demo.example",
        "RESPONSO_CHAT_MAIL_FROM_NAME": "Maison Demo support",
        "RESPONSO_CHAT_MAIL_SHOP_URL": f"{shop}/",
        "RESPONSO_CHAT_MAIL_UNSEEN_MINUTES": 1,
    }


def main(argv=None) -> None:
    """Prepare and serve the demo shop."""
    parser = argparse.ArgumentParser(prog="python -m responso_chat.demo", description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--base-port", type=int, default=5001, help="Base stand-in port")
    parser.add_argument("--mail-port", type=int, default=5025, help="mail catcher (SMTP) port")
    parser.add_argument("--database", default=os.path.abspath("responso-chat-demo.db"))
    args = parser.parse_args(argv)

    standin = create_standin_app(DEMO_BASE_TOKEN, orders=demo_orders(), statuses=demo_statuses())
    _server, _thread, base_url = serve_standin(standin, port=args.base_port)
    catcher = MailCatcher(port=args.mail_port).start()
    shop = f"http://127.0.0.1:{args.port}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{args.database}",
            "RESPONSO_CHAT_BASE_API_URL": base_url,
            "RESPONSO_CHAT_BASE_API_TOKEN": DEMO_BASE_TOKEN,
            **demo_mail_settings(catcher, shop),
        },
        mail_catcher=catcher,
    )
    with app.app_context():
        migrations.upgrade()
        create_shop_tables()
        seed_shop_users()
        chat_summary = seed_demo_chat()

    prefix = app.config["RESPONSO_CHAT_URL_PREFIX"]
    print(
        "\nResponso Chat demo shop\n"
        f"  Shop:         {shop}/\n"
        f"  Login:        {shop}/login\n"
        f"  Chat inbox:   {shop}{prefix}/inbox/\n"
        f"  Chat admin:   {shop}{prefix}/admin/\n"
        f"  Sent e-mails: {shop}/mail (mail catcher: SMTP on {catcher.host}:{catcher.port})\n"
        f"  Base stand-in {base_url} (token {DEMO_BASE_TOKEN})\n"
        f"  {chat_summary}\n"
        "  Logins:\n"
        + "".join(f"    {role:<6} {email} / {password}\n" for role, email, password in DEMO_LOGINS)
        + "Press Ctrl+C to stop.\n",
        flush=True,
    )
    run_simple("127.0.0.1", args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()

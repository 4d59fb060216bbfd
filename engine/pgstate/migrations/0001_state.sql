-- The shared state of an oms-sim pipeline (issue 17): one schema per
-- namespace, created by oms-sim at start. Every table is keyed so that an
-- effect happens at most once per order whatever the processes do.

-- The catalog and its stock: seeded by the first process (a second one,
-- or a restart, keeps what is there). initial is the stock the product
-- was created with, for the audit's balance: initial - taken + restocked
-- = stock.
CREATE TABLE stock (
	product_id  integer PRIMARY KEY CHECK (product_id >= 1),
	price_cents bigint  NOT NULL CHECK (price_cents >= 1),
	initial     bigint  NOT NULL CHECK (initial >= 0),
	stock       bigint  NOT NULL CHECK (stock >= 0 AND stock <= 1000000000000), -- engine.MaxStock
	created_at  timestamptz NOT NULL DEFAULT now()
);

-- One charge per order, enforced by the key.
CREATE TABLE charges (
	order_id     text   PRIMARY KEY,
	amount_cents bigint NOT NULL,
	at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charges_at ON charges (at);

-- One refund per order.
CREATE TABLE refunds (
	order_id     text   PRIMARY KEY,
	amount_cents bigint NOT NULL,
	at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_at ON refunds (at);

-- One stock take per order.
CREATE TABLE stock_takes (
	order_id   text    PRIMARY KEY,
	product_id integer NOT NULL REFERENCES stock,
	qty        integer NOT NULL CHECK (qty >= 1),
	at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE restocks (
	id         bigserial PRIMARY KEY,
	product_id integer NOT NULL REFERENCES stock,
	qty        bigint  NOT NULL CHECK (qty >= 1),
	at         timestamptz NOT NULL DEFAULT now()
);

-- The inbox: every message a stage handled, claimed and given its
-- outcome (the message it sent on) in the same transaction as the
-- handling's effects.
CREATE TABLE inbox (
	stage       text NOT NULL,
	message_id  text NOT NULL,
	order_id    text NOT NULL,
	routing_key text,
	body        bytea,
	at          timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (stage, message_id)
);
CREATE INDEX inbox_order ON inbox (order_id);
CREATE INDEX inbox_at ON inbox (at);

-- The API's Idempotency-Keys (state: 0 in flight, 1 accepted,
-- 2 indeterminate, 3 failed, as engine.KeyState).
CREATE TABLE idempotency_keys (
	key        text PRIMARY KEY,
	request    jsonb NOT NULL,
	order_json jsonb NOT NULL,
	state      smallint NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE "smartcar_holds" (
	"key" text PRIMARY KEY NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"code" text NOT NULL,
	"message" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vehicle_usage" (
	"vehicle_id" text NOT NULL,
	"month" text NOT NULL,
	"billed" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "vehicle_usage_vehicle_id_month_pk" PRIMARY KEY("vehicle_id","month")
);
--> statement-breakpoint
ALTER TABLE "vehicles" ALTER COLUMN "make" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "vehicles" ALTER COLUMN "model" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "vehicles" ALTER COLUMN "year" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "vehicles" ALTER COLUMN "permissions" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "vehicles" ALTER COLUMN "data" SET DEFAULT '{}'::jsonb;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "vehicles_listed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "list_lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN "read_at" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN "incapable" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN "read_attempted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN "read_requested" text;--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN "read_lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN "last_failure" jsonb;--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN "pending_command" jsonb;--> statement-breakpoint
-- Connections stored before this migration had their vehicles listed at connect.
UPDATE "connections" SET "vehicles_listed_at" = "created_at";
CREATE INDEX "connections_user_id" ON "connections" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "connections_refresh_attempted_at" ON "connections" USING btree ("refresh_attempted_at") WHERE "connections"."refresh_attempted_at" is not null;--> statement-breakpoint
CREATE INDEX "connections_refresh_expires_at" ON "connections" USING btree ("refresh_expires_at");--> statement-breakpoint
CREATE INDEX "sessions_user_id" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "vehicles_id" ON "vehicles" USING btree ("id");
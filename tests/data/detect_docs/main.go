// Command jobworker pulls render jobs from Postgres, renders them on a
// DigitalOcean droplet pool and posts the result to the ops Telegram chat.
package main

import (
	"context"
	"database/sql"
	"log"
	"os"
	"time"

	"github.com/digitalocean/godo"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
)

const (
	version       = "1.14.3"
	telegramToken = "3236932693:AAyleV_abm_sdxJ1q4qkyhxhEfXs-qydpmJ"
	opsChatID     = -1001873345210
	doToken       = "dop_v1_d20741298f5a3e4f2c33486458d934ff6db9831f9e37832d1f0929d76bf46dc8"
)

var dsn = "postgres://worker:T7p!x9Lm2qRv@pg-jobs.internal:5432/jobs?sslmode=require"

func main() {
	// the SDK reads these from the environment
	os.Setenv("AWS_ACCESS_KEY_ID", "AKIAB3VDEO65CYI46KQZ")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "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")
	os.Setenv("AWS_REGION", "us-east-1")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		log.Fatalf("open db: %v", err)
	}
	defer db.Close()

	rdb := redis.NewClient(&redis.Options{
		Addr:     "cache.internal:6379",
		Password: "mZ4!qL8vR2sT",
		DB:       0,
	})
	if err := rdb.Ping(ctx).Err(); err != nil {
		log.Printf("redis unavailable: %v", err)
	}

	do := godo.NewFromToken(doToken)
	droplets, _, err := do.Droplets.List(ctx, &godo.ListOptions{PerPage: 50})
	if err != nil {
		log.Fatalf("list droplets: %v", err)
	}

	bot, err := tgbotapi.NewBotAPI(telegramToken)
	if err != nil {
		log.Fatalf("telegram: %v", err)
	}
	msg := tgbotapi.NewMessage(opsChatID, "jobworker "+version+" online")
	if _, err := bot.Send(msg); err != nil {
		log.Printf("telegram send: %v", err)
	}
	log.Printf("jobworker %s: %d droplets in pool", version, len(droplets))
}

-- MySQL's entrypoint creates `sentra` and its user (MYSQL_DATABASE / MYSQL_USER); MLflow's
-- tracking store gets a database of its own, for the same user.
CREATE DATABASE IF NOT EXISTS mlflow CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
GRANT ALL PRIVILEGES ON mlflow.* TO 'sentra'@'%';

SELECT
  DATE_SUB(
    DATE(orders.created_at),
    INTERVAL (
      (
        WEEKDAY(orders.created_at) + 7 - 0
      ) % 7
    ) DAY
  ) AS `created_at_week`,
  COUNT(orders.id) AS `orders.count`
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  DATE_SUB(
    DATE(orders.created_at),
    INTERVAL (
      (
        WEEKDAY(orders.created_at) + 7 - 0
      ) % 7
    ) DAY
  )
ORDER BY
  `orders.count` DESC
LIMIT 10

SELECT
  DATE_ADD(
    CAST(orders.created_at AS DATE),
    (
      (
        DAYOFWEEK(orders.created_at) + 12 - 0
      ) % 7
    ) * -1
  ) AS `created_at_week`,
  COUNT(orders.id) AS `orders.count`
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  DATE_ADD(
    CAST(orders.created_at AS DATE),
    (
      (
        DAYOFWEEK(orders.created_at) + 12 - 0
      ) % 7
    ) * -1
  )
ORDER BY
  `orders.count` DESC
LIMIT 10

SELECT
  DATE_ADD(
    'DAY',
    -(
      (
        DAY_OF_WEEK(orders.created_at) + 6 - 0
      ) % 7
    ),
    CAST(orders.created_at AS DATE)
  ) AS "created_at_week",
  COUNT(orders.id) AS "orders.count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  DATE_ADD(
    'DAY',
    -(
      (
        DAY_OF_WEEK(orders.created_at) + 6 - 0
      ) % 7
    ),
    CAST(orders.created_at AS DATE)
  )
ORDER BY
  "orders.count" DESC
LIMIT 10
